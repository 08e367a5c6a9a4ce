// STUB: the test-suite helper replaces this file with the real implementation.
export {};
