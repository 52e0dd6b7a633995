//! Metadata schema entries as Encord's v2 API writes them: one JSON object per key,
//! discriminated by `ty` (encord-api.md §5.4).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::model::MetadataType;

/// The modelled type an entry describes, if any (`{ty: variant, hint: T}` is `T`).
pub fn modelled(entry: &Value) -> Option<MetadataType> {
    let ty = entry.get("ty")?.as_str()?;
    let scalar = |name: &str| match name {
        "boolean" => Some(MetadataType::Boolean),
        "datetime" => Some(MetadataType::Datetime),
        "number" => Some(MetadataType::Number),
        "uuid" => Some(MetadataType::Uuid),
        "varchar" | "string" => Some(MetadataType::Varchar),
        "text" | "long_string" => Some(MetadataType::Text),
        _ => None,
    };
    match ty {
        "variant" => scalar(entry.get("hint")?.as_str()?),
        "enum" => {
            let values = entry.get("values")?.as_array()?;
            let options: Option<BTreeSet<String>> = values
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect();
            options.map(MetadataType::Enum)
        }
        "embedding" => {
            let size = entry.get("size")?.as_u64()?;
            u32::try_from(size).ok().map(MetadataType::Embedding)
        }
        other => scalar(other),
    }
}

/// The entry Encord's API gives for a modelled type.
pub fn entry_of(ty: &MetadataType) -> Value {
    match ty {
        MetadataType::Boolean => json!({"ty": "boolean"}),
        MetadataType::Datetime => json!({"ty": "datetime", "timezone": "UTC"}),
        MetadataType::Number => json!({"ty": "number", "format": "F64"}),
        MetadataType::Uuid => json!({"ty": "uuid"}),
        MetadataType::Varchar => json!({"ty": "varchar", "max_length": 8192}),
        MetadataType::Text => json!({"ty": "text"}),
        MetadataType::Enum(options) => json!({"ty": "enum", "values": options}),
        MetadataType::Embedding(size) => json!({"ty": "embedding", "size": size, "api": null}),
    }
}
