// How much of each body leakscope keeps. Bodies always stream through whole; only what is kept is capped,
// so a 1 GiB upload costs at most these bytes of memory and the flow is marked `truncated`.

/** Request bodies held back before forwarding, scanned, stored and (if a rule says so) redacted. */
export const REQUEST_CAPTURE_BYTES = 1024 * 1024;
/** Response bodies: what is stored for the flow detail and the HAR. */
export const RESPONSE_CAPTURE_BYTES = 256 * 1024;
/** Decoded (gunzipped) size kept of either body. */
export const DECODED_BYTES = 2 * 1024 * 1024;
/** WebSocket message data kept per connection, all messages together; past it messages are listed with sizes only. */
export const WEBSOCKET_DATA_BYTES = 1024 * 1024;
/** WebSocket messages listed per connection; past it they are only counted (a chatty socket runs for hours). */
export const WEBSOCKET_MESSAGES = 10_000;
/** The largest WebSocket message leakscope relays: each is held whole to be scanned (and judged) before it goes on. */
export const WEBSOCKET_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * A request's line and headers that leakscope passes on (RFC 9110 sets no limit; 64 KiB holds long cookies and
 * URLs that servers take). Past it the phone gets a 431 and the request is still recorded and scanned.
 */
export const REQUEST_HEAD_BYTES = 64 * 1024;
/**
 * What the HTTP parsers read of a head, on both sides: room beyond REQUEST_HEAD_BYTES so that an oversized
 * request is parsed, recorded and answered rather than cut off; past this a 431 with a text body is all it gets.
 * Not more: node's parser on a decrypted (JS-stream) socket stalls on heads much past this instead of failing.
 */
export const PARSER_HEAD_BYTES = 128 * 1024;
