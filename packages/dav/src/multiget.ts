/**
 * Reading items by href: bounded, concurrent calendar-multiget/addressbook-multiget (a failing batch split in
 * halves), or one query for the whole collection where the server's multiget costs more.
 */
import {
  type FetchedItem,
  InvalidResponseError,
  Item,
  type ItemFailure,
  isVdirsyncerError,
  NotFoundError,
  type VdirsyncerError,
} from "@vdirsyncer/core";
import { HttpStatusError, redactUrl } from "./http-errors.ts";
import { queryWithData } from "./listing.ts";
import { failedPropError, findProp, propFailure, propResponses, propText } from "./multistatus.ts";
import type { CollectionTransport } from "./transport.ts";
import { el, NS } from "./xml.ts";

type Result = FetchedItem | ItemFailure;

/**
 * Reads `hrefs` (unique, normalised, not prefetched): one query when there are more than the profile's
 * `queryAboveHrefs`, else batches of `multigetBatchSize` with `multigetConcurrency` in flight. Missing hrefs
 * yield a NotFound ItemFailure. Memory stays bounded by the batches in flight plus those not yet consumed.
 */
export async function* readHrefs(t: CollectionTransport, wanted: string[]): AsyncIterable<Result> {
  if (wanted.length === 0) return;
  const profile = await t.profile();
  if (wanted.length > profile.queryAboveHrefs) {
    yield* await fromQuery(t, wanted);
    return;
  }
  const size = Math.max(1, t.opts.multigetBatchSize ?? profile.multigetBatchSize);
  const concurrency = Math.max(1, t.opts.multigetConcurrency ?? profile.multigetConcurrency);
  const batches: string[][] = [];
  for (let i = 0; i < wanted.length; i += size) batches.push(wanted.slice(i, i + size));

  const queue: Result[][] = [];
  let wake: (() => void) | undefined;
  let running = 0;
  let failure: unknown;
  const worker = async () => {
    running++;
    try {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        queue.push(await fetchBatch(t, batch));
        wake?.();
      }
    } catch (error) {
      failure ??= error;
    } finally {
      running--;
      wake?.();
    }
  };
  for (let i = 0; i < Math.min(concurrency, batches.length); i++) void worker();
  for (;;) {
    const ready = queue.shift();
    if (ready) {
      yield* ready;
      continue;
    }
    if (failure) throw failure;
    if (running === 0) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
}

/**
 * Reads `hrefs` out of one query for the whole collection (servers whose multiget costs more per href than
 * the query per collection, `queryAboveHrefs`). hrefs the query does not list yield a NotFound ItemFailure.
 */
async function fromQuery(t: CollectionTransport, hrefs: string[]): Promise<Result[]> {
  const answer = new Map<string, { etag: string; text: string | undefined }>();
  for (const { ref, text } of await queryWithData(t)) answer.set(ref.href, { etag: ref.etag, text });
  return hrefs.map((href): Result => {
    const got = answer.get(href);
    if (got === undefined) return { href, error: new NotFoundError(href) };
    if (got.text === undefined) {
      return {
        href,
        error: new InvalidResponseError(
          `${href}: the item content is missing from the server's query answer.`,
          {
            context: { href, location: redactUrl(t.url) },
          },
        ),
      };
    }
    return { href, etag: got.etag, item: new Item(got.text) };
  });
}

async function fetchBatch(t: CollectionTransport, batch: string[]): Promise<Result[]> {
  try {
    return await multiget(t, batch);
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    // Timeouts, dropped connections and 5xx are worth a smaller batch; a 4xx or bad XML is not.
    const transient =
      isVdirsyncerError(error, "INVALID_RESPONSE") &&
      (!(cause instanceof HttpStatusError) || cause.status >= 500);
    if (!transient) throw error;
    if (batch.length === 1) return [{ href: batch[0] as string, error: error as VdirsyncerError }];
    t.log.warn(`multiget of ${batch.length} items failed (${(error as Error).message}); retrying in halves.`);
    const half = Math.ceil(batch.length / 2);
    return [...(await fetchBatch(t, batch.slice(0, half))), ...(await fetchBatch(t, batch.slice(half)))];
  }
}

async function multiget(t: CollectionTransport, batch: string[]): Promise<Result[]> {
  const calendar = t.opts.kind === "calendar";
  const body = el(
    calendar ? NS.CALDAV : NS.CARDDAV,
    calendar ? "calendar-multiget" : "addressbook-multiget",
    el(NS.DAV, "prop", el(NS.DAV, "getetag"), t.dataElement()),
    ...batch.map((href) => el(NS.DAV, "href", href)),
  );
  const { res, root } = await t.multistatus("REPORT", t.url, body, { depth: "1" });
  const requested = new Set(batch);
  const out: Result[] = [];
  const done = new Set<string>();
  const [dataNs, dataName] = t.dataProp();
  for (const r of propResponses(root, res.url)) {
    if (!requested.has(r.href)) {
      t.log.warn(`Server sent unsolicited item: ${redactUrl(r.href)}`);
      continue;
    }
    if (done.has(r.href)) {
      t.log.warn(`Server sent item twice: ${redactUrl(r.href)}`);
      continue;
    }
    if (r.status === 404) continue; // reported as missing below
    done.add(r.href);
    const context = { href: r.href, location: redactUrl(t.url) };
    if (r.status !== undefined && (r.status < 200 || r.status >= 300)) {
      out.push({
        href: r.href,
        error: new InvalidResponseError(
          `REPORT ${redactUrl(t.url)} answered ${r.status} for ${redactUrl(r.href)}.`,
          { context },
        ),
      });
      continue;
    }
    // A property the server failed to give (a 500 propstat, say) is an error for that href, never "missing".
    const failedName = [
      ["getetag", propFailure(r, NS.DAV, "getetag")],
      [dataName, propFailure(r, dataNs, dataName)],
    ].find(([, code]) => code !== undefined) as [string, number] | undefined;
    if (failedName !== undefined) {
      out.push({ href: r.href, error: failedPropError("REPORT", t.url, r, failedName[0], failedName[1]) });
      continue;
    }
    const etag = propText(r.props, NS.DAV, "getetag");
    const data = findProp(r.props, dataNs, dataName);
    if (!data || (data.text === "" && data.children.length === 0)) {
      out.push({
        href: r.href,
        error: new InvalidResponseError(
          `${r.href}: the item content is missing from the server's multiget answer.`,
          {
            context,
          },
        ),
      });
      continue;
    }
    if (!etag) {
      out.push({
        href: r.href,
        error: new InvalidResponseError(`${r.href}: the server sent the item without an etag.`, { context }),
      });
      continue;
    }
    out.push({ href: r.href, etag, item: new Item(data.text) });
  }
  for (const href of batch) {
    if (!done.has(href)) out.push({ href, error: new NotFoundError(href) });
  }
  return out;
}
