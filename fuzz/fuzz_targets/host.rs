//! Fuzz target: the `Host` rules (`api::server::host`). Whatever the bytes, HTTP version, number of
//! `Host` fields and request-target authority, the check never panics; a value it accepts is
//! an `http::uri::Authority` without userinfo, naming the same port; and an HTTP/1.1 request
//! with one `Host` field and an origin-form target is accepted exactly when its value is.
#![no_main]

use api::server::host::{check_host, is_valid_host};
use http::header::HOST;
use http::uri::Authority;
use http::{HeaderMap, HeaderValue, Uri, Version};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [Version; 4] = [Version::HTTP_09, Version::HTTP_10, Version::HTTP_11, Version::HTTP_2];

fuzz_target!(|data: &[u8]| {
    // Layout: [selector, value…]. The selector's low two bits pick the version, the next two
    // how many `Host` fields carry the value (0 to 2), the next whether the request target
    // carries the value as its authority too.
    let [selector, value @ ..] = data else {
        return;
    };
    let accepted = is_valid_host(value);
    if accepted {
        let authority = Authority::try_from(value).expect("an accepted Host parses as an authority");
        assert_eq!(authority.as_str().as_bytes(), value);
        assert!(!authority.as_str().contains('@'), "no userinfo");
        let port = value.iter().rposition(|&byte| byte == b':').filter(|_| !value.ends_with(b"]"));
        let digits = port.map(|at| std::str::from_utf8(&value[at + 1..]).expect("ASCII"));
        assert_eq!(authority.port_u16(), digits.map(|digits| digits.parse().expect("a port")));
    }

    let version = VERSIONS[usize::from(selector & 3)];
    let fields = usize::from((selector >> 2) & 3).min(2);
    let mut headers = HeaderMap::new();
    if let Ok(field) = HeaderValue::from_bytes(value) {
        for _ in 0..fields {
            headers.append(HOST, field.clone());
        }
    }
    let target_authority = selector & 16 != 0;
    let uri = if target_authority {
        let mut absolute = b"http://".to_vec();
        absolute.extend_from_slice(value);
        absolute.push(b'/');
        Uri::try_from(absolute).unwrap_or_else(|_| Uri::from_static("/"))
    } else {
        Uri::from_static("/")
    };
    let outcome = check_host(version, &uri, &headers);
    if version == Version::HTTP_11 && headers.len() == 1 && uri.authority().is_none() {
        assert_eq!(outcome.is_ok(), accepted, "one Host field is judged by its value");
    }
});
