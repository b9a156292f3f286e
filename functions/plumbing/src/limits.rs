//! What the switch carries end to end: the hub's event limit, and the request limits the FSPIOP
//! edge derives from it so that every request it accepts fits one event.
//!
//! A request becomes one event, and the event must fit the hub end to end, so the edge's limits
//! derive from the hub's: the envelope carries every header (JSON-escaped) and the body as a
//! base64 data URI (4 bytes for every 3). [`REQUEST_BODY_BYTES_MAX`] is the largest body whose
//! event fits [`HUB_EVENT_BYTES_MAX`] with the most headers the edge takes
//! ([`REQUEST_HEADER_BYTES_MAX`], [`REQUEST_HEADERS_MAX`]). They live here, below the handler,
//! because the listeners (`crate::listen`) and the local emulator's hubs and edge hold to the
//! same numbers.

/// The largest event a hub carries: Event Hubs' Standard tier takes 1 MB (1,048,576 bytes) per
/// event (azure.md §2.1), and the local hubs refuse more than the same (`local-emulator`'s
/// `hubs::EVENT_BYTES_MAX`, which asserts it is this).
pub const HUB_EVENT_BYTES_MAX: usize = 1_048_576;
/// What the transport adds to an event's body on the way to Event Hubs (AMQP framing, message
/// annotations and properties, the batch's own envelope): a few hundred bytes, kept with a margin.
pub const EVENT_TRANSPORT_BYTES_MAX: usize = 8_192;
/// Most header fields a request may carry (hyper's own bound for HTTP/1).
pub const REQUEST_HEADERS_MAX: usize = 100;
/// Most bytes of header names and values a request may carry, all fields together. FSPIOP
/// headers take about 1 kB, a JWS signature about 1 kB more.
pub const REQUEST_HEADER_BYTES_MAX: usize = 16_384;
/// The envelope's own fields beside headers and payload (ids, FSP names, metadata with an error
/// description of at most 128 characters escaped, the two headers a Hub reply adds), with a
/// margin; `envelope_fixed_part_fits` measures the largest there is.
pub const ENVELOPE_FIXED_BYTES_MAX: usize = 4_096;
/// The headers as the envelope's JSON holds them: escaping at most doubles a byte (`"` and `\`;
/// other control bytes never reach the edge), plus quotes, colon and comma for each field, plus
/// the content type again in the payload's data URI.
pub const ENVELOPE_HEADERS_BYTES_MAX: usize =
    2 * REQUEST_HEADER_BYTES_MAX + 6 * REQUEST_HEADERS_MAX + 2 * REQUEST_HEADER_BYTES_MAX;
/// The largest request body the switch carries end to end: the most whose base64 fits beside the
/// largest headers and the fixed fields in one event (727,614 bytes).
pub const REQUEST_BODY_BYTES_MAX: usize = body_bytes_max(
    HUB_EVENT_BYTES_MAX - EVENT_TRANSPORT_BYTES_MAX - ENVELOPE_HEADERS_BYTES_MAX - ENVELOPE_FIXED_BYTES_MAX,
);
const _: () = assert!(
    base64_bytes(REQUEST_BODY_BYTES_MAX)
        + ENVELOPE_HEADERS_BYTES_MAX
        + ENVELOPE_FIXED_BYTES_MAX
        + EVENT_TRANSPORT_BYTES_MAX
        <= HUB_EVENT_BYTES_MAX
);
const _: () = assert!(
    HUB_EVENT_BYTES_MAX
        < base64_bytes(REQUEST_BODY_BYTES_MAX + 3)
            + ENVELOPE_HEADERS_BYTES_MAX
            + ENVELOPE_FIXED_BYTES_MAX
            + EVENT_TRANSPORT_BYTES_MAX
);

/// The length of `n` bytes in padded base64.
pub const fn base64_bytes(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// The most bytes whose padded base64 takes at most `room` bytes.
const fn body_bytes_max(room: usize) -> usize {
    room / 4 * 3
}
