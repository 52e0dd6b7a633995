//! A serde `Deserializer` over [`Node`], so manifest types are plain `#[derive(Deserialize)]`
//! structs while every error still knows its line and column.
//!
//! Errors start without a position and pick up the position of the innermost node that
//! was being read when they arose: an unknown field points at its key, a bad role at its
//! value, a missing field at the mapping that lacks it.
//!
//! [`Spanned<T>`] records the position of the node it was read from, the way
//! `toml::Spanned` does: it asks for a struct with a reserved name, which this
//! deserializer answers with the node's origin and value.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Node, NodeKind, parse_bool};
use crate::diagnostic::{Diagnostic, FileId, Origin, Rule, one_of};

/// Reads a `T` from a node; the error carries the position of the offending node.
pub fn from_node<'de, T: Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node)).map_err(|e: DeError| e.or_at(node.origin))
}

/// A value with the place in a manifest it was read from.
#[derive(Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Spanned<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Spanned { value, origin }
    }
}

impl<T> Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// Positions do not take part in equality: two manifests that say the same thing are equal.
impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

const SPANNED: &str = "$orgform::Spanned";
const SPANNED_FIELDS: &[&str] = &["$file", "$line", "$column", "$value"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read from a manifest")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let mut pos = [0u32; 3];
                for slot in &mut pos {
                    let _: de::IgnoredAny = map
                        .next_key()?
                        .ok_or_else(|| de::Error::custom("Spanned: missing position"))?;
                    *slot = map.next_value()?;
                }
                let _: de::IgnoredAny = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("Spanned: missing value"))?;
                let value = map.next_value()?;
                Ok(Spanned {
                    value,
                    origin: Origin {
                        file: FileId(pos[0]),
                        line: pos[1],
                        column: pos[2],
                    },
                })
            }
        }
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, SpannedVisitor(Default::default()))
    }
}

/// A deserialization failure, in orgform's terms: rule code, message, help, position.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub rule: Rule,
    pub message: String,
    pub help: Option<String>,
    pub origin: Option<Origin>,
}

impl DeError {
    fn new(rule: Rule, message: String) -> Self {
        DeError {
            rule,
            message,
            help: None,
            origin: None,
        }
    }

    /// Sets the position unless an inner node already did.
    pub fn or_at(mut self, origin: Origin) -> Self {
        self.origin.get_or_insert(origin);
        self
    }

    pub fn into_diagnostic(self) -> Diagnostic {
        let mut d = Diagnostic::error(self.rule, self.message).at_opt(self.origin);
        d.help = self.help;
        d
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(Rule::InvalidValue, msg.to_string())
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(
            Rule::InvalidValue,
            format!("expected {exp}, found {}", describe_unexpected(&unexp)),
        )
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(
            Rule::InvalidValue,
            format!(
                "{} is out of range: expected {exp}",
                describe_unexpected(&unexp)
            ),
        )
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(
            Rule::InvalidValue,
            format!("`{variant}` is not a valid value"),
        );
        e.help = Some(one_of(variant, expected));
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(Rule::UnknownField, format!("unknown field `{field}`"));
        e.help = Some(if expected.is_empty() {
            "this mapping takes no fields".to_string()
        } else {
            one_of(field, expected)
        });
        e
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(Rule::InvalidValue, format!("missing field `{field}`"));
        e.help = Some(format!("add `{field}:` to this entry"));
        e
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::new(Rule::YamlSyntax, format!("field `{field}` is given twice"))
    }
}

fn describe_unexpected(u: &de::Unexpected<'_>) -> String {
    match u {
        de::Unexpected::Unit | de::Unexpected::Option => "null".to_string(),
        de::Unexpected::Bool(b) => format!("boolean `{b}`"),
        de::Unexpected::Unsigned(n) => format!("number `{n}`"),
        de::Unexpected::Signed(n) => format!("number `{n}`"),
        de::Unexpected::Float(n) => format!("number `{n}`"),
        de::Unexpected::Str(s) => format!("string `{}`", shorten(s)),
        de::Unexpected::Seq => "a list".to_string(),
        de::Unexpected::Map => "a mapping".to_string(),
        other => other.to_string(),
    }
}

/// Keeps messages readable when the offending value is huge.
fn shorten(s: &str) -> Cow<'_, str> {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        Cow::Borrowed(s)
    } else {
        let head: String = s.chars().take(MAX).collect();
        Cow::Owned(format!("{head}… ({} characters)", s.chars().count()))
    }
}

struct NodeDe<'a>(&'a Node);

impl<'a> NodeDe<'a> {
    fn unexpected(&self) -> de::Unexpected<'a> {
        match &self.0.kind {
            NodeKind::Scalar { value, plain } => {
                if *plain {
                    if self.0.is_null() {
                        return de::Unexpected::Unit;
                    }
                    if let Some(b) = parse_bool(value) {
                        return de::Unexpected::Bool(b);
                    }
                    if let Ok(n) = value.parse::<i64>() {
                        return de::Unexpected::Signed(n);
                    }
                    if let Ok(n) = value.parse::<f64>() {
                        return de::Unexpected::Float(n);
                    }
                }
                de::Unexpected::Str(value)
            }
            NodeKind::Seq(_) => de::Unexpected::Seq,
            NodeKind::Map(_) => de::Unexpected::Map,
        }
    }

    fn invalid<V: Visitor<'a>>(&self, visitor: &V) -> DeError {
        <DeError as de::Error>::invalid_type(self.unexpected(), visitor).or_at(self.0.origin)
    }

    fn plain_scalar(&self) -> Option<&'a str> {
        match &self.0.kind {
            NodeKind::Scalar { value, plain: true } => Some(value),
            _ => None,
        }
    }
}

macro_rules! deserialize_integer {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let origin = self.0.origin;
            let text = self.plain_scalar().filter(|_| !self.0.is_null());
            match text {
                Some(t) => {
                    if let Ok(n) = t.parse::<u64>() {
                        visitor.visit_u64(n)
                    } else if let Ok(n) = t.parse::<i64>() {
                        visitor.visit_i64(n)
                    } else if t.parse::<f64>().is_ok() || t.bytes().all(|b| b.is_ascii_digit()) {
                        Err(DeError::new(
                            Rule::InvalidValue,
                            format!("number `{}` is not a whole number in range", shorten(t)),
                        ))
                    } else {
                        Err(self.invalid(&visitor))
                    }
                }
                None => Err(self.invalid(&visitor)),
            }
            .map_err(|e: DeError| e.or_at(origin))
        }
    )*};
}

impl<'de> Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let origin = self.0.origin;
        match &self.0.kind {
            NodeKind::Scalar { value, plain } => {
                if *plain {
                    if self.0.is_null() {
                        return visitor.visit_unit().map_err(|e: DeError| e.or_at(origin));
                    }
                    if let Some(b) = parse_bool(value) {
                        return visitor.visit_bool(b).map_err(|e: DeError| e.or_at(origin));
                    }
                    if let Ok(n) = value.parse::<u64>() {
                        return visitor.visit_u64(n).map_err(|e: DeError| e.or_at(origin));
                    }
                    if let Ok(n) = value.parse::<i64>() {
                        return visitor.visit_i64(n).map_err(|e: DeError| e.or_at(origin));
                    }
                    if let Ok(n) = value.parse::<f64>()
                        && n.is_finite()
                    {
                        return visitor.visit_f64(n).map_err(|e: DeError| e.or_at(origin));
                    }
                }
                visitor.visit_str(value)
            }
            NodeKind::Seq(items) => visitor.visit_seq(Seq(items.iter())),
            NodeKind::Map(entries) => visitor.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
        }
        .map_err(|e: DeError| e.or_at(origin))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain_scalar().and_then(parse_bool) {
            Some(b) => visitor.visit_bool(b),
            None => Err(self.invalid(&visitor)),
        }
        .map_err(|e: DeError| e.or_at(self.0.origin))
    }

    deserialize_integer!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.plain_scalar().and_then(|t| t.parse::<f64>().ok()) {
            Some(n) => visitor.visit_f64(n),
            None => Err(self.invalid(&visitor)),
        }
        .map_err(|e: DeError| e.or_at(self.0.origin))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            // A plain `null`/`~`/empty value is not a string: `name:` left blank is a mistake.
            NodeKind::Scalar { value, .. } if !self.0.is_null() => visitor.visit_str(value),
            _ => Err(self.invalid(&visitor)),
        }
        .map_err(|e: DeError| e.or_at(self.0.origin))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            visitor.visit_unit()
        } else {
            Err(self.invalid(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Seq(items) => visitor.visit_seq(Seq(items.iter())),
            // `members:` left blank means no members, as YAML readers expect.
            _ if self.0.is_null() => visitor.visit_seq(Seq([].iter())),
            _ => Err(self.invalid(&visitor)),
        }
        .map_err(|e: DeError| e.or_at(self.0.origin))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Map(entries) => visitor.visit_map(Map {
                entries: entries.iter(),
                value: None,
            }),
            _ => Err(self.invalid(&visitor)),
        }
        .map_err(|e: DeError| e.or_at(self.0.origin))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            return visitor.visit_map(SpannedAccess {
                node: self.0,
                step: 0,
            });
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let origin = self.0.origin;
        match &self.0.kind {
            NodeKind::Scalar { value, .. } if !self.0.is_null() => visitor.visit_enum(Enum {
                variant: value,
                value: None,
            }),
            NodeKind::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                match &key.kind {
                    NodeKind::Scalar { value: k, .. } => visitor
                        .visit_enum(Enum {
                            variant: k,
                            value: Some(value),
                        })
                        .map_err(|e: DeError| e.or_at(key.origin)),
                    _ => Err(self.invalid(&visitor)),
                }
            }
            _ => Err(self.invalid(&visitor)),
        }
        .map_err(|e: DeError| e.or_at(origin))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Seq<'a>(std::slice::Iter<'a, Node>);

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.0.next() {
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map(Some)
                .map_err(|e: DeError| e.or_at(node.origin)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(NodeDe(key))
                    .map(Some)
                    .map_err(|e: DeError| e.or_at(key.origin))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let node = self
            .value
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        seed.deserialize(NodeDe(node))
            .map_err(|e: DeError| e.or_at(node.origin))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct Enum<'a> {
    variant: &'a str,
    value: Option<&'a Node>,
}

impl<'de> EnumAccess<'de> for Enum<'de> {
    type Error = DeError;
    type Variant = Self;
    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let de: de::value::StrDeserializer<'_, DeError> = self.variant.into_deserializer();
        Ok((seed.deserialize(de)?, self))
    }
}

impl<'de> VariantAccess<'de> for Enum<'de> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None => Ok(()),
            Some(node) if node.is_null() => Ok(()),
            Some(node) => Err(DeError::new(
                Rule::InvalidValue,
                format!("`{}` takes no value", self.variant),
            )
            .or_at(node.origin)),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.value {
            Some(node) => seed
                .deserialize(NodeDe(node))
                .map_err(|e: DeError| e.or_at(node.origin)),
            None => Err(DeError::new(
                Rule::InvalidValue,
                format!("`{}` needs a value", self.variant),
            )),
        }
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => NodeDe(node).deserialize_seq(visitor),
            None => Err(DeError::new(
                Rule::InvalidValue,
                format!("`{}` needs a list", self.variant),
            )),
        }
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => NodeDe(node).deserialize_map(visitor),
            None => Err(DeError::new(
                Rule::InvalidValue,
                format!("`{}` needs a mapping", self.variant),
            )),
        }
    }
}

/// Feeds [`Spanned`]'s visitor: file, line, column, then the value itself.
struct SpannedAccess<'a> {
    node: &'a Node,
    step: usize,
}

impl<'de> MapAccess<'de> for SpannedAccess<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if self.step >= SPANNED_FIELDS.len() {
            return Ok(None);
        }
        let key: de::value::StrDeserializer<'_, DeError> =
            SPANNED_FIELDS[self.step].into_deserializer();
        seed.deserialize(key).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let origin = self.node.origin;
        let step = self.step;
        self.step += 1;
        let number = |n: u32| -> de::value::U32Deserializer<DeError> { n.into_deserializer() };
        match step {
            0 => seed.deserialize(number(origin.file.0)),
            1 => seed.deserialize(number(origin.line)),
            2 => seed.deserialize(number(origin.column)),
            _ => seed
                .deserialize(NodeDe(self.node))
                .map_err(|e: DeError| e.or_at(origin)),
        }
    }
}
