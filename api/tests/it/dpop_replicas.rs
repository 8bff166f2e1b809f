//! Two api processes sharing one real Redis: a proof used on one replica is refused on the other; Redis down is answered as documented.
