// The sync engine: planner, executor and metasync (written in this folder).
export {};
