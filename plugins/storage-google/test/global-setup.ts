// Starts Radicale and Xandikos once for this project (vitest resolves globalSetup paths, not package names).
export { default } from "@vdirsyncer/test-servers/global-setup";
