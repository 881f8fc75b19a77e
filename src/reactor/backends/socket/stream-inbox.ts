import { compactFront } from '../../compact-front';

/**
 * The received-but-unread chunks of one stream, as fields on the backend's
 * own handle object (so an idle connection holds no array: `inbox` exists
 * only while something waits in it). Shared by the backends on real
 * sockets.
 */
export interface InboxFields {
  /** Received chunks not yet read; `inboxHead` is the first unread one. Only while there are some. */
  inbox: Buffer[] | undefined;
  inboxHead: number;
  inboxBytes: number;
}

const EMPTY_CHUNK = Buffer.alloc(0);

/** Appends a received chunk. */
export function inboxPush(fields: InboxFields, chunk: Buffer): void {
  (fields.inbox ??= []).push(chunk);
  fields.inboxBytes += chunk.length;
}

/**
 * Takes up to `maxBytes` from the front: the oldest chunk itself when it
 * fits (no copy), else a view of its first `maxBytes`. `undefined` when empty.
 */
export function inboxTake(fields: InboxFields, maxBytes: number): Buffer | undefined {
  const inbox = fields.inbox;
  if (inbox === undefined || fields.inboxBytes === 0) return undefined;
  const chunk = inbox[fields.inboxHead];
  let out: Buffer;
  if (chunk.length <= maxBytes) {
    out = chunk;
    inbox[fields.inboxHead++] = EMPTY_CHUNK;
    if (fields.inboxHead === inbox.length) {
      fields.inbox = undefined; // an idle connection keeps no array
      fields.inboxHead = 0;
    } else {
      fields.inboxHead = compactFront(inbox, fields.inboxHead); // a reader that always leaves a chunk behind
    }
  } else {
    out = chunk.subarray(0, maxBytes);
    inbox[fields.inboxHead] = chunk.subarray(maxBytes);
  }
  fields.inboxBytes -= out.length;
  return out;
}
