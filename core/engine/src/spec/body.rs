//! JSON request bodies: a typed struct of the body's own fields with the output settings
//! of [`SETTINGS`](super::SETTINGS) beside them, read with the path of every error.
//!
//! serde's `flatten` cannot carry the settings: it buffers the keys it does not know, so
//! errors inside them lose their path, and it does not combine with
//! `deny_unknown_fields`. [`WithSettings`] instead reads the map itself: a key that names a
//! setting is checked by its row as it is read, every other key goes to the fields'
//! derived `Deserialize` (whose `deny_unknown_fields` refuses the rest). The path of
//! every error is then the one `serde_path_to_error` tracked.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::SpecError;
use super::settings::{SettingDef, Settings};

/// A body: its own fields (`T`, a derived struct) and the output settings beside them.
#[derive(Debug, Clone, Default)]
pub struct WithSettings<T> {
    /// The body's own fields.
    pub fields: T,
    /// The output settings given.
    pub settings: Settings,
}

/// Reads a JSON object into its body type; an error names its JSON path (`items[3].url`,
/// `format`) as its param.
pub fn from_json_body<T: DeserializeOwned>(object: &Map<String, Value>) -> Result<T, SpecError> {
    serde_path_to_error::deserialize(object).map_err(|error| {
        let path = error.path().to_string();
        // The root ("."): a body that is not an object was refused before.
        let param = if path == "." { String::new() } else { path };
        SpecError::new(param, error.into_inner().to_string())
    })
}

/// For `#[serde(default, deserialize_with = "not_null")]`: an absent key is `None`, but a
/// given one must hold a value (`null` is refused like any other wrong type).
pub fn not_null<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for WithSettings<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BodyVisitor(PhantomData))
    }
}

struct BodyVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for BodyVisitor<T> {
    type Value = WithSettings<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<WithSettings<T>, A::Error> {
        let mut settings = Settings::default();
        let aside = SettingsAside { map, settings: &mut settings };
        let fields = T::deserialize(MapAccessDeserializer::new(aside))?;
        Ok(WithSettings { fields, settings })
    }
}

/// The body's map as the fields see it: the settings' keys taken out and checked.
struct SettingsAside<'s, A> {
    map: A,
    settings: &'s mut Settings,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for SettingsAside<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut seed = Some(seed);
        loop {
            match self.map.next_key_seed(RouteKey { field: &mut seed })? {
                None => return Ok(None),
                Some(Routed::Field(key)) => return Ok(Some(key)),
                Some(Routed::Setting(index)) => {
                    self.map.next_value_seed(SettingValue { index, settings: self.settings })?
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A key is a setting's (by its row) or one of the fields'.
enum Routed<K> {
    Setting(usize),
    Field(K),
}

/// Reads a key inside the map's own `next_key_seed`, so that an unknown field's error
/// carries the key in its path.
struct RouteKey<'a, K> {
    field: &'a mut Option<K>,
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for RouteKey<'_, K> {
    type Value = Routed<K::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for RouteKey<'_, K> {
    type Value = Routed<K::Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        if let Some((index, _)) = SettingDef::named(key) {
            return Ok(Routed::Setting(index));
        }
        let seed = self.field.take().ok_or_else(|| E::custom("a key read twice"))?;
        // The fields' `deny_unknown_fields` refuses any key but theirs.
        let key_deserializer: de::value::StrDeserializer<E> = key.into_deserializer();
        seed.deserialize(key_deserializer)
            .map(Routed::Field)
            .map_err(|_: E| E::custom(format!("unknown field {key}")))
    }
}

/// A setting's value, checked by its row; `null` counts as absent.
struct SettingValue<'s> {
    index: usize,
    settings: &'s mut Settings,
}

impl<'de> DeserializeSeed<'de> for SettingValue<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let value = Value::deserialize(deserializer)?;
        self.settings.read_json(self.index, &value).map_err(de::Error::custom)
    }
}
