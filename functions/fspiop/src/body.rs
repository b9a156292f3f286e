//! Reading operator JSON bodies (admin and settlement APIs) field by field, with the error code
//! hapi's Joi validation gives each failure: a missing field is 3102, a wrong type or a value
//! outside its enumeration or format 3101, anything else (an unknown field) 3100.

use ledger_core::amount::Amount;
use ledger_core::currency::Currency;
use serde_json::{Map, Value};

use crate::{ErrorCode, FspiopError};

/// A JSON object being read; every read names the field in the error.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
    known: Vec<&'static str>,
}

/// Parses a request body that must be a JSON object.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, FspiopError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed("\"value\" must be of type object")),
        Err(_) => Err(FspiopError::with_detail(ErrorCode::MalformedSyntax, "Invalid request payload JSON format")),
    }
}

pub fn missing(field: &str) -> FspiopError {
    FspiopError::with_detail(ErrorCode::MissingElement, format!("\"{field}\" is required"))
}

pub fn malformed(detail: impl AsRef<str>) -> FspiopError {
    FspiopError::with_detail(ErrorCode::MalformedSyntax, detail)
}

pub fn invalid(detail: impl AsRef<str>) -> FspiopError {
    FspiopError::with_detail(ErrorCode::ValidationError, detail)
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Fields<'a> {
        Fields { map, prefix: String::new(), known: Vec::new() }
    }

    fn name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn get(&mut self, field: &'static str) -> Option<&'a Value> {
        self.known.push(field);
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value),
        }
    }

    fn required(&mut self, field: &'static str) -> Result<&'a Value, FspiopError> {
        let name = self.name(field);
        self.get(field).ok_or_else(|| missing(&name))
    }

    pub fn str(&mut self, field: &'static str) -> Result<&'a str, FspiopError> {
        let name = self.name(field);
        match self.required(field)? {
            Value::String(text) if text.is_empty() => Err(malformed(format!("\"{name}\" is not allowed to be empty"))),
            Value::String(text) => Ok(text),
            _ => Err(malformed(format!("\"{name}\" must be a string"))),
        }
    }

    pub fn opt_str(&mut self, field: &'static str) -> Result<Option<&'a str>, FspiopError> {
        match self.map.contains_key(field) && !self.map[field].is_null() {
            true => self.str(field).map(Some),
            false => {
                self.known.push(field);
                Ok(None)
            }
        }
    }

    pub fn bool(&mut self, field: &'static str) -> Result<bool, FspiopError> {
        let name = self.name(field);
        match self.required(field)? {
            Value::Bool(value) => Ok(*value),
            // Joi converts the strings "true" and "false".
            Value::String(text) if text == "true" => Ok(true),
            Value::String(text) if text == "false" => Ok(false),
            _ => Err(malformed(format!("\"{name}\" must be a boolean"))),
        }
    }

    pub fn opt_bool(&mut self, field: &'static str) -> Result<Option<bool>, FspiopError> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                self.known.push(field);
                Ok(None)
            }
            Some(_) => self.bool(field).map(Some),
        }
    }

    /// A JSON number (or a numeric string, which Joi converts) as an exact amount.
    pub fn number(&mut self, field: &'static str) -> Result<Amount, FspiopError> {
        let name = self.name(field);
        let text = match self.required(field)? {
            Value::Number(number) => number.to_string(),
            Value::String(text) => text.clone(),
            _ => return Err(malformed(format!("\"{name}\" must be a number"))),
        };
        Amount::parse_decimal(&text).map_err(|_| malformed(format!("\"{name}\" must be a number")))
    }

    pub fn opt_number(&mut self, field: &'static str) -> Result<Option<Amount>, FspiopError> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                self.known.push(field);
                Ok(None)
            }
            Some(_) => self.number(field).map(Some),
        }
    }

    pub fn currency(&mut self, field: &'static str) -> Result<Currency, FspiopError> {
        let name = self.name(field);
        let text = self.str(field)?;
        Currency::parse(text).ok_or_else(|| malformed(format!("\"{name}\" must be a valid ISO 4217 currency code")))
    }

    /// One of `allowed`, as Joi's `valid(...)` reports it.
    pub fn one_of<T>(&mut self, field: &'static str, allowed: &[&str], parse: impl Fn(&str) -> Option<T>) -> Result<T, FspiopError> {
        let name = self.name(field);
        let text = self.str(field)?;
        match allowed.contains(&text).then(|| parse(text)).flatten() {
            Some(value) => Ok(value),
            None => Err(malformed(format!("\"{name}\" must be one of [{}]", allowed.join(", ")))),
        }
    }

    /// A nested object, read with the same rules.
    pub fn object(&mut self, field: &'static str) -> Result<Fields<'a>, FspiopError> {
        let name = self.name(field);
        match self.required(field)? {
            Value::Object(map) => Ok(Fields { map, prefix: format!("{name}."), known: Vec::new() }),
            _ => Err(malformed(format!("\"{name}\" must be of type object"))),
        }
    }

    /// A required array of objects, each read with the same rules (`"field[idx]."` names).
    pub fn objects(&mut self, field: &'static str) -> Result<Vec<Fields<'a>>, FspiopError> {
        let name = self.name(field);
        let Value::Array(items) = self.required(field)? else {
            return Err(malformed(format!("\"{name}\" must be an array")));
        };
        let mut res = Vec::with_capacity(items.len());
        for (idx, item) in items.iter().enumerate() {
            match item {
                Value::Object(map) => res.push(Fields { map, prefix: format!("{name}[{idx}]."), known: Vec::new() }),
                _ => return Err(malformed(format!("\"{name}[{idx}]\" must be of type object"))),
            }
        }
        Ok(res)
    }

    /// A required positive integer id (a JSON number or a numeric string).
    pub fn id(&mut self, field: &'static str) -> Result<u64, FspiopError> {
        let name = self.name(field);
        let parsed = match self.required(field)? {
            Value::Number(number) => number.as_u64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        };
        parsed.filter(|it| *it > 0).ok_or_else(|| malformed(format!("\"{name}\" must be a positive integer")))
    }

    /// Whether the object has the field at all.
    pub fn has(&self, field: &str) -> bool {
        self.map.contains_key(field)
    }

    pub fn opt_value(&mut self, field: &'static str) -> Option<&'a Value> {
        self.get(field)
    }

    /// Refuses fields that were never read (Joi's default: unknown keys are not allowed).
    pub fn finish(self) -> Result<(), FspiopError> {
        match self.map.keys().find(|it| !self.known.contains(&it.as_str())) {
            Some(unknown) => Err(invalid(format!("\"{}{unknown}\" is not allowed", self.prefix))),
            None => Ok(()),
        }
    }
}

/// An exact amount as a JSON number (the admin and settlement APIs print numbers, not strings).
pub fn amount_number(amount: Amount) -> Value {
    // Printed and re-read: integers stay exact, and a float's shortest form is the decimal text
    // for any amount of up to fifteen significant digits.
    serde_json::from_str(&amount.to_fspiop_string()).expect("an amount prints as a JSON number")
}
