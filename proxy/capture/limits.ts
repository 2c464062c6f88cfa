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
