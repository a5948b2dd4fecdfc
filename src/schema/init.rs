//! `init`: turns a folder whose `schema.ts` is the generated file into the documented overlay
//! layout (labs.convex.dev/better-auth/features/local-install#adding-custom-indexes).

use super::error::SchemaError;
use super::locate::{Component, Layout, SourceFile};
use super::model;
use super::ts;
use super::write;
use std::path::PathBuf;

pub(crate) const GENERATED_FILE: &str = "generatedSchema.ts";

/// The regenerate commands, for both generations of the Better Auth CLI.
pub(crate) const REGENERATE: [&str; 2] = [
    "npx auth generate --output generatedSchema.ts",
    "npx @better-auth/cli generate -y --output generatedSchema.ts",
];

/// What `init` will write.
#[derive(Debug, Clone)]
pub(crate) struct Conversion {
    pub generated_path: PathBuf,
    pub generated_text: String,
    pub schema_text: String,
}

/// The overlay `schema.ts`, in the file's own quote style and line endings.
pub(crate) fn overlay_text(quote: char, newline: &str) -> String {
    let q = quote;
    [
        format!("import {{ defineSchema }} from {q}convex/server{q};"),
        format!("import {{ tables }} from {q}./generatedSchema{q};"),
        String::new(),
        "// The generated tables live in generatedSchema.ts; regenerate them with".into(),
        format!("//   {}", REGENERATE[0]),
        "// Add custom indexes here, e.g. `user: tables.user.index(\"name\", [\"field\"])`.".into(),
        "const schema = defineSchema({".into(),
        "  ...tables,".into(),
        "});".into(),
        String::new(),
        "export default schema;".into(),
        String::new(),
    ]
    .join(newline)
}

/// Plans the conversion. `Ok(None)` when the folder already is an overlay.
pub(crate) fn plan(component: &Component) -> Result<Option<Conversion>, SchemaError> {
    let schema = &component.schema;
    if let Layout::Overlay { .. } = component.layout {
        return Ok(None);
    }
    let has_tables = schema.parsed.objects.iter().any(|o| o.name == "tables");
    if !has_tables {
        return Err(SchemaError::unsupported(
            schema.path.clone(),
            &schema.text,
            0..0,
            "no `export const tables = {...}` in schema.ts: regenerate it with a Better Auth CLI \
             that writes the local-install format (`npx auth generate`), then run init again"
                .into(),
        ));
    }
    let generated_path = component.dir.join(GENERATED_FILE);
    if generated_path.exists() {
        return Err(SchemaError::unsupported(
            generated_path.clone(),
            "",
            0..0,
            format!(
                "{} already exists; move it away first so init does not overwrite it",
                generated_path.display()
            ),
        ));
    }
    let newline = if schema.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let schema_text = overlay_text(schema.parsed.quote, newline);
    // Verify: the overlay over the moved file must describe exactly the same tables.
    let parsed = ts::parse(&schema_text).map_err(|e| SchemaError::Verify {
        path: schema.path.clone(),
        message: e.message,
    })?;
    let rebuilt = model::build(&parsed, &model::generated_tables(&schema.parsed));
    if rebuilt.tables != component.model.tables {
        return Err(SchemaError::Verify {
            path: schema.path.clone(),
            message: "the overlay would not describe the same tables".into(),
        });
    }
    Ok(Some(Conversion {
        generated_path,
        generated_text: schema.text.clone(),
        schema_text,
    }))
}

/// Writes the conversion: the generated content first (to a new file), then `schema.ts`.
pub(crate) fn commit(schema: &SourceFile, conversion: &Conversion) -> Result<(), SchemaError> {
    write::create(&conversion.generated_path, &conversion.generated_text)?;
    if let Err(err) = write::commit(schema, &conversion.schema_text) {
        // Leave the folder as it was found.
        let _ = std::fs::remove_file(&conversion.generated_path);
        return Err(err);
    }
    Ok(())
}
