//! Strict JSON for a token's protected header and payload, read in one pass that is linear in
//! the text and builds no tree: the caller captures the few top-level members it reads, and
//! everything else is checked and dropped.
//!
//! Refused, each with its own reason: a byte-order mark, text that is not UTF-8 (RFC 8259 §8.1,
//! RFC 8725 §3.7), anything but one JSON object, a member name twice in one object at any depth
//! (RFC 7515 §5.2 and RFC 7519 §4 allow a parser to reject them; differing parsers are an
//! attack surface, so we do), a number beyond `f64`, nesting deeper than [`MAX_DEPTH`], and more
//! members in an object or values in the document than its [`Limits`]. The limits are far above
//! what any real token holds; they bound the work and memory a hostile token can ask for, which
//! the token's size alone does not: 12 KiB of JSON can hold thousands of values, and a few
//! hundred of them cost as much to read as a small token's whole verification.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::error::Category;

/// The deepest nesting accepted, the top-level object counting as 1. Real tokens nest a few
/// levels (a claim holding an object of arrays); this is below serde_json's own limit (128), so
/// a deeper document is refused by us, with a description that says so.
const MAX_DEPTH: usize = 32;

/// RFC 8259 §8.1: a byte-order mark must not be sent, and a parser may treat one as an error.
const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// What one `String` costs beyond its bytes: its header and allocator rounding.
pub(crate) const STRING_COST: usize = std::mem::size_of::<String>() + 16;
/// What one object member costs beyond its key and value: B-tree node space and rounding.
const MEMBER_COST: usize = 32;
/// What a JSON string's heap allocation costs beyond its bytes (allocator rounding).
const STRING_HEAP_COST: usize = 16;

/// Why a JSON document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// It starts with a UTF-8 byte-order mark.
    ByteOrderMark,
    /// It is not UTF-8.
    NotUtf8,
    /// It is not JSON.
    Syntax,
    /// It is JSON, but not an object.
    NotAnObject,
    /// It nests deeper than [`MAX_DEPTH`].
    TooDeep,
    /// An object has more members than the document's limit.
    TooManyMembers,
    /// The document has more values than its limit.
    TooManyValues,
    /// An object has two members of the same name.
    DuplicateMember,
    /// A number does not fit an `f64`.
    NumberOutOfRange,
}

/// Which part of a token a document is: the words its refusals are described with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Document {
    /// The JOSE protected header.
    ProtectedHeader,
    /// The JWT Claims Set, the payload.
    ClaimsSet,
}

impl JsonError {
    /// The refusal's description for the client. A header that is not a JSON object at all
    /// (not UTF-8, not JSON, another JSON type) keeps the reference's words; every rule of ours
    /// it breaks, and every fault of a payload, is named.
    pub(crate) fn description(self, document: Document) -> &'static str {
        use Document::{ClaimsSet, ProtectedHeader};
        use JsonError::*;
        match (document, self) {
            (ProtectedHeader, NotUtf8 | Syntax | NotAnObject) => {
                "Invalid Token or Protected Header formatting"
            }
            (ProtectedHeader, ByteOrderMark) => {
                "Protected Header must not start with a byte-order mark"
            }
            (ProtectedHeader, TooDeep) => "Protected Header is nested too deeply",
            (ProtectedHeader, TooManyMembers) => {
                "Protected Header has an object with too many members"
            }
            (ProtectedHeader, TooManyValues) => "Protected Header has too many values",
            (ProtectedHeader, DuplicateMember) => {
                "Protected Header must be a JSON object without duplicate members"
            }
            (ProtectedHeader, NumberOutOfRange) => "Protected Header has a number out of range",
            (ClaimsSet, Syntax) => "JWT Claims Set is not valid JSON",
            (ClaimsSet, NotAnObject) => "JWT Claims Set must be a JSON object",
            (ClaimsSet, ByteOrderMark) => "JWT Claims Set must not start with a byte-order mark",
            (ClaimsSet, NotUtf8) => "JWT Claims Set must be UTF-8",
            (ClaimsSet, TooDeep) => "JWT Claims Set is nested too deeply",
            (ClaimsSet, TooManyMembers) => "JWT Claims Set has an object with too many members",
            (ClaimsSet, TooManyValues) => "JWT Claims Set has too many values",
            (ClaimsSet, DuplicateMember) => {
                "JWT Claims Set must be a JSON object without duplicate members"
            }
            (ClaimsSet, NumberOutOfRange) => "JWT Claims Set has a number out of range",
        }
    }

    /// What serde_json refused, when our own checks did not refuse first.
    fn of(error: &serde_json::Error) -> Self {
        match error.classify() {
            // Our visitors read every value with `deserialize_any` and refuse through
            // `Scan::refuse`, so the only data error left is the top level's type.
            Category::Data => JsonError::NotAnObject,
            // serde_json's one way of saying it; pinned by a unit test.
            Category::Syntax if error.to_string().starts_with("number out of range") => {
                JsonError::NumberOutOfRange
            }
            Category::Syntax | Category::Eof | Category::Io => JsonError::Syntax,
        }
    }
}

/// What keeps a document's top-level members: for each, where its [`Captured`] value goes, or
/// nowhere (`None`), when it is only checked.
pub(crate) trait Members<'de> {
    /// Where the value of the member called `name` is kept.
    fn slot(&mut self, name: &str) -> Option<&mut Option<Captured<'de>>>;
}

/// A scanned document: what its members were read into, and the heap a `serde_json` tree of it
/// would take (what building it later would cost).
pub(crate) struct Scanned<M> {
    pub members: M,
    pub tree_bytes: usize,
}

/// How much one document may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most members of any one of its objects.
    pub members: usize,
    /// The most values (objects, arrays, strings, numbers, literals) below the top-level
    /// object, at any depth.
    pub values: usize,
}

/// Reads `bytes` as one JSON object within `limits`, handing each top-level member to
/// `members`.
pub(crate) fn scan_object<'de, M: Members<'de>>(
    bytes: &'de [u8],
    limits: Limits,
    members: M,
) -> Result<Scanned<M>, JsonError> {
    if bytes.starts_with(BYTE_ORDER_MARK) {
        return Err(JsonError::ByteOrderMark);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| JsonError::NotUtf8)?;
    let scan = Scan {
        limits,
        values: Cell::new(0),
        fault: Cell::new(None),
        names: RefCell::new(Vec::new()),
        tree_bytes: Cell::new(0),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let top = TopLevel {
        scan: &scan,
        members,
    };
    match deserializer
        .deserialize_map(top)
        .and_then(|members| deserializer.end().map(|()| members))
    {
        Ok(members) => Ok(Scanned {
            members,
            tree_bytes: scan.tree_bytes.get(),
        }),
        Err(error) => Err(scan.fault.take().unwrap_or_else(|| JsonError::of(&error))),
    }
}

/// One pass over one document.
struct Scan<'de> {
    limits: Limits,
    /// How many values have been read.
    values: Cell<usize>,
    /// The first of our own refusals, which reaches the caller as an opaque serde error.
    fault: Cell<Option<JsonError>>,
    /// The member names of the objects being read, as a stack: each object's names sit above
    /// those of the objects that hold it, and are checked and popped when it ends.
    names: RefCell<Vec<Cow<'de, str>>>,
    /// The heap a `serde_json` tree of what was read so far would take.
    tree_bytes: Cell<usize>,
}

impl<'de> Scan<'de> {
    /// Records `fault` and returns the error that stops serde_json.
    fn refuse<E: de::Error>(&self, fault: JsonError) -> E {
        self.fault.set(Some(fault));
        E::custom(format_args!("{fault:?}"))
    }

    /// Counts one more value, refusing it beyond the limit.
    fn count_value<E: de::Error>(&self) -> Result<(), E> {
        let values = self.values.get() + 1;
        if values > self.limits.values {
            return Err(self.refuse(JsonError::TooManyValues));
        }
        self.values.set(values);
        Ok(())
    }

    fn grow_tree(&self, bytes: usize) {
        self.tree_bytes.set(self.tree_bytes.get() + bytes);
    }

    /// Reads an object's members, each value through `member`, then refuses a repeated name.
    /// Sorting the object's names (at most the member limit) keeps the check `n log n`.
    fn object<A: MapAccess<'de>>(
        &self,
        mut map: A,
        mut member: impl FnMut(&mut A, &str) -> Result<(), A::Error>,
    ) -> Result<(), A::Error> {
        let start = self.names.borrow().len();
        let mut count = 0;
        while let Some(MemberName(name)) = map.next_key()? {
            count += 1;
            if count > self.limits.members {
                return Err(self.refuse(JsonError::TooManyMembers));
            }
            member(&mut map, &name)?;
            self.grow_tree(MEMBER_COST + STRING_COST + name.len() + size_of::<Value>());
            self.names.borrow_mut().push(name);
        }
        let mut names = self.names.borrow_mut();
        let own = &mut names[start..];
        own.sort_unstable();
        let repeated = own.windows(2).any(|pair| pair[0] == pair[1]);
        names.truncate(start);
        if repeated {
            Err(self.refuse(JsonError::DuplicateMember))
        } else {
            Ok(())
        }
    }
}

/// The top-level object, its members handed to `members`.
struct TopLevel<'s, 'de, M> {
    scan: &'s Scan<'de>,
    members: M,
}

impl<'de, M: Members<'de>> Visitor<'de> for TopLevel<'_, 'de, M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, map: A) -> Result<M, A::Error> {
        let value = Strict {
            scan: self.scan,
            depth: 1,
        };
        let members = &mut self.members;
        self.scan
            .object(map, |map, name| match members.slot(name) {
                Some(slot) => {
                    *slot = Some(map.next_value_seed(Capture::new(value))?);
                    Ok(())
                }
                None => map.next_value_seed(value),
            })?;
        Ok(self.members)
    }
}

/// Reads any value, checking it and keeping nothing; `depth` is that of the object or array
/// that holds it.
#[derive(Clone, Copy)]
struct Strict<'s, 'de> {
    scan: &'s Scan<'de>,
    depth: usize,
}

impl<'s, 'de> Strict<'s, 'de> {
    /// The reader of the values of an object or array opened here, or the refusal of one
    /// too deep.
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.scan.refuse(JsonError::TooDeep));
        }
        Ok(Strict {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.scan.count_value()?;
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        // serde_json refuses an overflowing number itself; this is the belt to its braces.
        if v.is_finite() {
            Ok(())
        } else {
            Err(self.scan.refuse(JsonError::NumberOutOfRange))
        }
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scan.grow_tree(STRING_HEAP_COST + v.len());
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let item = self.nested()?;
        while seq.next_element_seed(item)?.is_some() {
            self.scan.grow_tree(size_of::<Value>());
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value = self.nested()?;
        self.scan.object(map, |map, _| map.next_value_seed(value))
    }
}

/// A top-level member's value as a caller reads it. Anything else is checked like every value
/// and not kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Captured<'de> {
    /// A string, borrowed from the document unless it had escapes.
    Str(Cow<'de, str>),
    /// A number, as the claim checks read numbers.
    Number(f64),
    /// An array whose every element is a string (possibly empty).
    Strings(StringList),
    /// Any other value.
    Other,
}

impl Captured<'_> {
    /// The same value, owning its string.
    pub(crate) fn into_owned(self) -> Captured<'static> {
        match self {
            Captured::Str(text) => Captured::Str(Cow::Owned(text.into_owned())),
            Captured::Number(number) => Captured::Number(number),
            Captured::Strings(list) => Captured::Strings(list),
            Captured::Other => Captured::Other,
        }
    }
}

/// Reads a value into a [`Captured`], checking it as [`Strict`] does.
#[derive(Clone, Copy)]
struct Capture<'s, 'de> {
    strict: Strict<'s, 'de>,
    /// Whether an array of strings is kept (for a member's value, not for an array's items).
    arrays: bool,
}

impl<'s, 'de> Capture<'s, 'de> {
    /// Captures a member's value.
    fn new(value: Strict<'s, 'de>) -> Self {
        Capture {
            strict: value,
            arrays: true,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Capture<'_, 'de> {
    type Value = Captured<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Captured<'de>, D::Error> {
        self.strict.scan.count_value()?;
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capture<'_, 'de> {
    type Value = Captured<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Captured<'de>, E> {
        Ok(Captured::Other)
    }
    fn visit_i64<E>(self, v: i64) -> Result<Captured<'de>, E> {
        Ok(Captured::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Captured<'de>, E> {
        Ok(Captured::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Captured<'de>, E> {
        self.strict.visit_f64(v).map(|()| Captured::Number(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Captured<'de>, E> {
        self.strict.scan.grow_tree(STRING_HEAP_COST + v.len());
        Ok(Captured::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Captured<'de>, E> {
        self.strict.scan.grow_tree(STRING_HEAP_COST + v.len());
        Ok(Captured::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Captured<'de>, E> {
        Ok(Captured::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Captured<'de>, A::Error> {
        if !self.arrays {
            return self.strict.visit_seq(seq).map(|()| Captured::Other);
        }
        let item = Capture {
            strict: self.strict.nested()?,
            arrays: false,
        };
        // Kept while every item so far is a string.
        let mut strings = Some(StringList::default());
        while let Some(captured) = seq.next_element_seed(item)? {
            self.strict.scan.grow_tree(size_of::<Value>());
            match (captured, &mut strings) {
                (Captured::Str(text), Some(list)) => list.push(&text),
                _ => strings = None,
            }
        }
        Ok(strings.map_or(Captured::Other, Captured::Strings))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Captured<'de>, A::Error> {
        self.strict.visit_map(map).map(|()| Captured::Other)
    }
}

/// Strings kept end to end in one buffer: an array of strings read without an allocation per
/// string, however many it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StringList {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<usize>,
}

impl StringList {
    /// A list of one string.
    pub(crate) fn one(text: &str) -> Self {
        let mut list = StringList::default();
        list.push(text);
        list
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    /// The strings, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| &self.text[start..end])
    }

    /// The heap this list holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * size_of::<usize>()
    }

    /// The heap the same strings take as a `Vec<String>`.
    pub(crate) fn vec_heap_bytes(&self) -> usize {
        self.ends.len() * STRING_COST + self.text.len()
    }
}

/// A member name, borrowed from the document when it has no escapes.
struct MemberName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Borrowed(name)))
            }
            fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keeps nothing: the document is only checked.
    struct Nothing;

    impl<'de> Members<'de> for Nothing {
        fn slot(&mut self, _name: &str) -> Option<&mut Option<Captured<'de>>> {
            None
        }
    }

    const SMALL: Limits = Limits {
        members: 4,
        values: 64,
    };

    fn check(document: &str) -> Result<(), JsonError> {
        scan_object(document.as_bytes(), SMALL, Nothing).map(|_| ())
    }

    /// Keeps every top-level member's value as captured.
    #[derive(Default)]
    struct Everything<'de>(Vec<(String, Option<Captured<'de>>)>);

    impl<'de> Members<'de> for Everything<'de> {
        fn slot(&mut self, name: &str) -> Option<&mut Option<Captured<'de>>> {
            self.0.push((name.to_owned(), None));
            self.0.last_mut().map(|(_, captured)| captured)
        }
    }

    #[test]
    fn each_fault_is_told_apart() {
        let nested =
            |depth: usize| format!("{{\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
        for (document, fault) in [
            ("\u{feff}{}".to_owned(), JsonError::ByteOrderMark),
            ("{\"a\":1} x".to_owned(), JsonError::Syntax),
            ("{\"a\":".to_owned(), JsonError::Syntax),
            ("[1,2]".to_owned(), JsonError::NotAnObject),
            ("\"text\"".to_owned(), JsonError::NotAnObject),
            (nested(MAX_DEPTH), JsonError::TooDeep),
            (nested(5000), JsonError::TooDeep),
            (
                r#"{"a":1,"b":2,"c":3,"d":4,"e":5}"#.to_owned(),
                JsonError::TooManyMembers,
            ),
            (
                r#"{"x":{"a":1,"b":2,"c":3,"d":4,"e":5}}"#.to_owned(),
                JsonError::TooManyMembers,
            ),
            // The array and 64 numbers: one value too many.
            (
                format!("{{\"a\":[{}0]}}", "0,".repeat(63)),
                JsonError::TooManyValues,
            ),
            (
                format!("{{\"a\":{{\"b\":[{}[1]]}}}}", "[1,2],".repeat(21)),
                JsonError::TooManyValues,
            ),
            (
                r#"{"a":1,"b":2,"a":3}"#.to_owned(),
                JsonError::DuplicateMember,
            ),
            (
                r#"{"a":[{"b":1,"\u0062":2}]}"#.to_owned(),
                JsonError::DuplicateMember,
            ),
            (r#"{"a":1e400}"#.to_owned(), JsonError::NumberOutOfRange),
            (r#"{"a":[-1e309]}"#.to_owned(), JsonError::NumberOutOfRange),
        ] {
            assert_eq!(check(&document), Err(fault), "{document}");
        }
        assert_eq!(
            scan_object(b"{\"a\":\"\xff\"}", SMALL, Nothing).map(|_| ()),
            Err(JsonError::NotUtf8)
        );
    }

    #[test]
    fn what_is_within_the_limits_is_accepted() {
        let deepest = format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        for document in [
            "{}",
            r#"{"a":1,"b":2,"c":3,"d":4}"#,
            r#"{"a":{"a":{"a":1}},"b":[{"a":1}]}"#,
            &format!("{{\"a\":[{}0]}}", "0,".repeat(62)),
            r#" {"a":null,"b":true,"c":-1.5e300,"d":"\u00e9"} "#,
            &deepest,
        ] {
            assert_eq!(check(document), Ok(()), "{document}");
        }
    }

    #[test]
    fn captured_members_are_strings_numbers_and_arrays_of_strings() {
        let document = r#"{"s":"a\"b","n":7,"f":1.5,"l":["x","","y\u00e9"],"e":[],"m":["x",1],"o":{"s":"x"},"b":false}"#;
        let limits = Limits {
            members: 8,
            values: 16,
        };
        let Everything(members) = scan_object(document.as_bytes(), limits, Everything::default())
            .expect("scans")
            .members;
        let list = |items: &[&str]| {
            let mut list = StringList::default();
            items.iter().for_each(|item| list.push(item));
            Captured::Strings(list)
        };
        assert_eq!(
            members,
            [
                ("s".to_owned(), Some(Captured::Str("a\"b".into()))),
                ("n".to_owned(), Some(Captured::Number(7.0))),
                ("f".to_owned(), Some(Captured::Number(1.5))),
                ("l".to_owned(), Some(list(&["x", "", "y\u{e9}"]))),
                ("e".to_owned(), Some(list(&[]))),
                ("m".to_owned(), Some(Captured::Other)),
                ("o".to_owned(), Some(Captured::Other)),
                ("b".to_owned(), Some(Captured::Other)),
            ]
        );
    }

    #[test]
    fn the_tree_estimate_grows_with_what_a_tree_would_hold() {
        let estimate = |document: &str| {
            let limits = Limits {
                members: 64,
                values: 64,
            };
            scan_object(document.as_bytes(), limits, Nothing)
                .expect("scans")
                .tree_bytes
        };
        let strings = estimate(r#"{"a":["x","y","z"]}"#);
        assert!(strings > estimate(r#"{"a":["x"]}"#));
        assert!(estimate(r#"{"a":"xxxxxxxxxxxxxxxx"}"#) >= estimate(r#"{"a":""}"#) + 16);
        assert!(estimate(r#"{"a":{"b":1,"c":2}}"#) > estimate(r#"{"a":{}}"#) + 2 * MEMBER_COST);
    }

    #[test]
    fn every_fault_has_a_description_for_each_document() {
        // Only a header that is not a JSON object at all keeps the reference's generic words.
        for fault in [
            JsonError::ByteOrderMark,
            JsonError::TooDeep,
            JsonError::TooManyMembers,
            JsonError::TooManyValues,
            JsonError::DuplicateMember,
            JsonError::NumberOutOfRange,
        ] {
            let header = fault.description(Document::ProtectedHeader);
            let claims = fault.description(Document::ClaimsSet);
            assert!(header.starts_with("Protected Header "), "{header}");
            assert!(claims.starts_with("JWT Claims Set "), "{claims}");
        }
    }
}
