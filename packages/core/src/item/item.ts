// STUB: the item-model helper replaces this file with the real implementation.
/**
 * One item (a VEVENT/VTODO/VJOURNAL with its VCALENDAR wrapper, or a VCARD) as raw text.
 *
 * Immutable. `raw` is kept byte for byte and never validated; `uid`, `hash` and `ident` are computed lazily,
 * exactly as vdirsyncer computes them (spec/sync.md).
 */
export class Item {
  readonly raw: string;
  constructor(raw: string) {
    this.raw = raw;
  }
  /** The first `UID` property anywhere in the text, unfolded and stripped; `undefined` when absent or empty. */
  get uid(): string | undefined {
    throw new Error("not implemented");
  }
  /** sha256 hex of vdirsyncer's normalised form. */
  get hash(): string {
    throw new Error("not implemented");
  }
  /** The UID, or the hash when there is none. */
  get ident(): string {
    return this.uid ?? this.hash;
  }
  /** A copy whose VEVENT/VTODO/VJOURNAL/VCARD components carry `UID:<uid>` (none when `uid` is empty). */
  withUid(_uid: string): Item {
    throw new Error("not implemented");
  }
}
