//! The shape shared by every vector file: a description, optional shared
//! tables, and cases with a name, a description and an expected outcome.
//!
//! Rendering is pretty JSON with sorted keys (serde_json's default map) and
//! a trailing newline, so equal inputs give equal bytes.

use serde_json::{Map, Value};

/// The outcome of a case that should pass.
pub const SUCCESS: &str = "success";

/// One JSON vector file under construction.
pub struct VectorFile {
    /// File name inside the vectors directory.
    pub file_name: &'static str,
    description: &'static str,
    shared: Map<String, Value>,
    cases: Vec<Value>,
}

impl VectorFile {
    /// An empty file.
    pub fn new(file_name: &'static str, description: &'static str) -> Self {
        Self {
            file_name,
            description,
            shared: Map::new(),
            cases: Vec::new(),
        }
    }

    /// Adds a top-level table shared by the cases (e.g. `keys`, `blobs`).
    pub fn shared(&mut self, key: &str, value: Value) {
        self.shared.insert(key.to_string(), value);
    }

    /// Adds a case.
    pub fn push(&mut self, case: Case) {
        self.cases.push(Value::Object(case.0));
    }

    /// Number of cases.
    pub fn case_count(&self) -> usize {
        self.cases.len()
    }

    /// Pretty JSON with a trailing newline; fails on duplicate case names
    /// or a file without a negative or without a positive case.
    pub fn render(&self) -> Result<String, String> {
        let mut names = std::collections::BTreeSet::new();
        let (mut positive, mut negative) = (0, 0);
        for c in &self.cases {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if !names.insert(name.to_string()) {
                return Err(format!("{}: duplicate case name {name:?}", self.file_name));
            }
            match c.get("expected").and_then(Value::as_str) {
                Some(SUCCESS) => positive += 1,
                Some(_) => negative += 1,
                None => return Err(format!("{}: case {name:?} has no expected", self.file_name)),
            }
        }
        if positive == 0 || negative == 0 {
            return Err(format!(
                "{}: needs positive and negative cases ({positive} / {negative})",
                self.file_name
            ));
        }
        let mut top = self.shared.clone();
        top.insert("description".into(), Value::from(self.description));
        top.insert("cases".into(), Value::Array(self.cases.clone()));
        let mut text = serde_json::to_string_pretty(&Value::Object(top))
            .map_err(|e| format!("{}: {e}", self.file_name))?;
        text.push('\n');
        Ok(text)
    }
}

/// One case: `name`, `description`, `expected` and case-specific fields.
pub struct Case(Map<String, Value>);

impl Case {
    /// A case expecting `expected` (`"success"` or an error code).
    pub fn new(name: &str, description: &str, expected: &str) -> Self {
        let mut m = Map::new();
        m.insert("name".into(), Value::from(name));
        m.insert("description".into(), Value::from(description));
        m.insert("expected".into(), Value::from(expected));
        Self(m)
    }

    /// Sets a field.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_string(), value.into());
        self
    }

    /// Sets a field to lower-case hex.
    pub fn hex(self, key: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.with(key, hex::encode(bytes))
    }
}

/// Builds a JSON object from `(key, value)` pairs.
pub fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Lower-case hex as a JSON string.
pub fn hx(bytes: impl AsRef<[u8]>) -> Value {
    Value::from(hex::encode(bytes))
}

/// Turns any displayable error into the generator's `String` error with context.
pub trait Ctx<T> {
    /// Adds `what` to the error.
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

impl<T> Ctx<T> for Option<T> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| format!("{what}: missing"))
    }
}
