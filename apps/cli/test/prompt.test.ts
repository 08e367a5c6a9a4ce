import { Readable } from "node:stream";
import { describe, expect, test } from "vitest";
import { LineReader } from "../src/prompt.ts";

describe("LineReader", () => {
  test("after the last line, every further question gets the end of input, even once the stream has ended", async () => {
    const stream = Readable.from(["y\ny\n"]);
    const reader = new LineReader(stream);
    expect(await reader.next()).toBe("y");
    expect(await reader.next()).toBe("y");
    // Let the stream finish while no question waits.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stream.readableEnded).toBe(true);
    const third = await Promise.race([
      reader.next(),
      new Promise((resolve) => setTimeout(() => resolve("no answer within 5 s"), 5000)),
    ]);
    expect(third).toBeUndefined();
    expect(await reader.next()).toBeUndefined();
  });
});
