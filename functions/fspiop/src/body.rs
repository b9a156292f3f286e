//! Reading operator JSON bodies (admin and settlement APIs) field by field as the services' Joi
//! schemas read them: converting what Joi converts (numeric and boolean strings), refusing what
//! it refuses with Joi's message, and with the code the service gives that refusal
//! ([`Service::refuse`]).
//!
//! Fields are read in the schema's key order, so the first refusal is the one Joi reports
//! first. A field that is present but `null` is a value of the wrong type, as in Joi; only
//! absence is "required".

use serde_json::{Map, Value};

use crate::joi::{boolean, only_message, JoiError, JoiNumber, NumberProblem, Service};
use crate::{ErrorCode, FspiopError};

/// A JSON object being read; every read names the field in the error.
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    service: Service,
    prefix: String,
    known: Vec<&'static str>,
    /// Whether keys no read names are let through (enjoi's nested objects) or refused.
    allow_unknown: bool,
}

/// Parses a request body that must be a JSON object. The root's label is `value` in Joi's
/// messages, which hapi-openapi renames to `payload` for central-settlement.
pub fn parse_object(service: Service, bytes: &[u8]) -> Result<Map<String, Value>, FspiopError> {
    let root = match service {
        Service::Ledger => "value",
        Service::Settlement => "payload",
    };
    // hapi gives an empty body as `null`, which Joi's object refuses.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(service.refuse(JoiError::ObjectBase, format!("\"{root}\" must be of type object")));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(service.refuse(JoiError::ObjectBase, format!("\"{root}\" must be of type object"))),
        // hapi's payload parser fails before Joi: a 400 Boom, which the error handler turns
        // into 3000 in both services.
        Err(_) => Err(FspiopError::with_detail(ErrorCode::ClientError, "Invalid request payload JSON format")),
    }
}

impl<'a> Fields<'a> {
    /// The body's top level: keys no read names are refused.
    pub fn new(service: Service, map: &'a Map<String, Value>) -> Fields<'a> {
        Fields { map, service, prefix: String::new(), known: Vec::new(), allow_unknown: false }
    }

    /// A nested object read under `prefix` (e.g. `amount.`), refusing unknown keys.
    pub fn nested(service: Service, map: &'a Map<String, Value>, prefix: &str) -> Fields<'a> {
        Fields { map, service, prefix: prefix.to_string(), known: Vec::new(), allow_unknown: false }
    }

    /// The field's Joi label: its path from the body's root.
    pub fn label(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    /// A refusal of the field, with Joi's message `"<label>" <text>`.
    pub fn refuse(&self, field: &str, kind: JoiError, text: &str) -> FspiopError {
        self.service.refuse(kind, format!("\"{}\" {text}", self.label(field)))
    }

    /// The field's value; `None` only when it is absent.
    fn get(&mut self, field: &'static str) -> Option<&'a Value> {
        self.known.push(field);
        self.map.get(field)
    }

    fn required(&mut self, field: &'static str) -> Result<&'a Value, FspiopError> {
        match self.get(field) {
            Some(value) => Ok(value),
            None => Err(self.refuse(field, JoiError::Required, "is required")),
        }
    }

    fn string_of(&self, field: &str, value: &'a Value, allow_empty: bool) -> Result<&'a str, FspiopError> {
        match value {
            Value::String(text) if text.is_empty() && !allow_empty => {
                Err(self.refuse(field, JoiError::StringEmpty, "is not allowed to be empty"))
            }
            Value::String(text) => Ok(text),
            _ => Err(self.refuse(field, JoiError::StringBase, "must be a string")),
        }
    }

    /// A required `Joi.string()`. central-ledger's refuses `""`; central-settlement's (enjoi,
    /// no `minLength` in the swagger) allows it.
    pub fn str(&mut self, field: &'static str) -> Result<&'a str, FspiopError> {
        let value = self.required(field)?;
        self.string_of(field, value, self.service == Service::Settlement)
    }

    /// An optional `Joi.string()`.
    pub fn opt_str(&mut self, field: &'static str) -> Result<Option<&'a str>, FspiopError> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => self.string_of(field, value, self.service == Service::Settlement).map(Some),
        }
    }

    /// `Joi.string().valid(...)`: the allowed values are matched before the type, so anything
    /// else (another string, a number, `null`) is `any.only`.
    pub fn one_of<T>(
        &mut self,
        field: &'static str,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, FspiopError> {
        let value = self.required(field)?;
        self.only(field, value, allowed, parse)
    }

    /// An optional `Joi.string().valid(...)`.
    pub fn opt_one_of<T>(
        &mut self,
        field: &'static str,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, FspiopError> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => self.only(field, value, allowed, parse).map(Some),
        }
    }

    fn only<T>(
        &self,
        field: &str,
        value: &Value,
        allowed: &[&str],
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, FspiopError> {
        let text = value.as_str().filter(|it| allowed.contains(it));
        match text.and_then(parse) {
            Some(it) => Ok(it),
            None => Err(self.service.refuse(JoiError::AnyOnly, only_message(&self.label(field), allowed))),
        }
    }

    /// A required `Joi.boolean()`.
    pub fn bool(&mut self, field: &'static str) -> Result<bool, FspiopError> {
        let value = self.required(field)?;
        boolean(value).ok_or_else(|| self.refuse(field, JoiError::BooleanBase, "must be a boolean"))
    }

    /// A required `Joi.number()`, exact.
    pub fn number(&mut self, field: &'static str) -> Result<JoiNumber, FspiopError> {
        let value = self.required(field)?;
        self.number_of(field, value)
    }

    /// An optional `Joi.number()`.
    pub fn opt_number(&mut self, field: &'static str) -> Result<Option<JoiNumber>, FspiopError> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => self.number_of(field, value).map(Some),
        }
    }

    fn number_of(&self, field: &str, value: &Value) -> Result<JoiNumber, FspiopError> {
        let parsed = match value {
            Value::Number(number) => JoiNumber::from_json(number),
            Value::String(text) => JoiNumber::parse_joi(text),
            _ => Err(NumberProblem::NotANumber),
        };
        match parsed {
            Ok(number) => Ok(number),
            Err(NumberProblem::NotANumber) => Err(self.refuse(field, JoiError::NumberBase, "must be a number")),
            Err(NumberProblem::Unsafe) => Err(self.refuse(field, JoiError::NumberUnsafe, "must be a safe number")),
        }
    }

    /// A `Joi.number().integer()` (swagger's `integer`): required or not.
    pub fn integer(&mut self, field: &'static str, required: bool) -> Result<Option<i64>, FspiopError> {
        let value = match (self.get(field), required) {
            (Some(value), _) => value,
            (None, false) => return Ok(None),
            (None, true) => return Err(self.refuse(field, JoiError::Required, "is required")),
        };
        let number = self.number_of(field, value)?;
        match number.to_integer() {
            Some(it) => Ok(Some(it)),
            None => Err(self.refuse(field, JoiError::NumberInteger, "must be an integer")),
        }
    }

    /// A required nested object, read with the same rules; `allow_unknown` for enjoi's nested
    /// objects, which let keys through that the swagger does not name.
    pub fn object(&mut self, field: &'static str, allow_unknown: bool) -> Result<Fields<'a>, FspiopError> {
        let value = self.required(field)?;
        self.object_of(field, value, allow_unknown)
    }

    /// An optional nested object.
    pub fn opt_object(&mut self, field: &'static str, allow_unknown: bool) -> Result<Option<Fields<'a>>, FspiopError> {
        match self.get(field) {
            None => Ok(None),
            Some(value) => self.object_of(field, value, allow_unknown).map(Some),
        }
    }

    fn object_of(&self, field: &str, value: &'a Value, allow_unknown: bool) -> Result<Fields<'a>, FspiopError> {
        match value {
            Value::Object(map) => Ok(Fields {
                map,
                service: self.service,
                prefix: format!("{}.", self.label(field)),
                known: Vec::new(),
                allow_unknown,
            }),
            _ => Err(self.refuse(field, JoiError::ObjectBase, "must be of type object")),
        }
    }

    /// An array, required or not: its items.
    pub fn array(&mut self, field: &'static str, required: bool) -> Result<Option<&'a [Value]>, FspiopError> {
        match (self.get(field), required) {
            (Some(Value::Array(items)), _) => Ok(Some(items)),
            (Some(_), _) => Err(self.refuse(field, JoiError::ArrayBase, "must be an array")),
            (None, false) => Ok(None),
            (None, true) => Err(self.refuse(field, JoiError::Required, "is required")),
        }
    }

    /// Item `idx` of the array `field` as an object (labels `field[idx].key`).
    pub fn item(
        &self,
        field: &str,
        idx: usize,
        value: &'a Value,
        allow_unknown: bool,
    ) -> Result<Fields<'a>, FspiopError> {
        let label = format!("{}[{idx}]", self.label(field));
        match value {
            Value::Object(map) => {
                Ok(Fields { map, service: self.service, prefix: format!("{label}."), known: Vec::new(), allow_unknown })
            }
            _ => Err(self.service.refuse(JoiError::ObjectBase, format!("\"{label}\" must be of type object"))),
        }
    }

    /// The field's raw value, marked as known.
    pub fn opt_value(&mut self, field: &'static str) -> Option<&'a Value> {
        self.get(field)
    }

    /// Refuses keys that were never read, unless this object lets them through.
    pub fn finish(self) -> Result<(), FspiopError> {
        if self.allow_unknown {
            return Ok(());
        }
        match self.map.keys().find(|it| !self.known.contains(&it.as_str())) {
            Some(unknown) => Err(self
                .service
                .refuse(JoiError::ObjectUnknown, format!("\"{}{unknown}\" is not allowed", self.prefix))),
            None => Ok(()),
        }
    }
}

/// An exact amount as a JSON number (the admin and settlement APIs print numbers, not strings).
pub fn amount_number(amount: ledger_core::amount::Amount) -> Value {
    // Printed and re-read: integers stay exact, and a float's shortest form is the decimal text
    // for any amount of up to fifteen significant digits.
    serde_json::from_str(&amount.to_fspiop_string()).expect("an amount prints as a JSON number")
}
