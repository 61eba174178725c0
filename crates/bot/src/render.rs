//! Answer templates: minijinja syntax (`{{order.status}}`), rendered only
//! when every variable they use is known, so the bot never sends an answer
//! with a hole where the buyer's data should be.

use minijinja::Environment;
use serde_json::Value;
use std::sync::LazyLock;

/// The work one render may do (instructions, and about one unit per 64
/// bytes it creates): far more than any answer needs, far less than a
/// template that repeats a string or list millions of times would take.
const FUEL: u64 = 50_000;

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env
});

/// Refuses what answer templates never need and could make a render run
/// away: multiplying (`*`, `**`) inside `{{ }}` or `{% %}` repeats a
/// string or list as many times as asked, before any budget can stop it.
fn check_operators(template: &str) -> Result<(), String> {
    let bytes = template.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        let open = &bytes[i..i + 2];
        if open != b"{{" && open != b"{%" {
            i += 1;
            continue;
        }
        let close: &[u8] = if open == b"{{" { b"}}" } else { b"%}" };
        i += 2;
        let mut quote: Option<u8> = None;
        while i < bytes.len() {
            let b = bytes[i];
            match quote {
                Some(_) if b == b'\\' => i += 1,
                Some(q) if b == q => quote = None,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b == b'*' => return Err("answer templates cannot multiply (`*`)".to_owned()),
                None if bytes[i..].starts_with(close) => break,
                None => {}
            }
            i += 1;
        }
        i += 2;
    }
    Ok(())
}

/// Checks that a template parses.
pub(crate) fn parse(template: &str) -> Result<(), String> {
    check_operators(template)?;
    ENV.template_from_str(template).map(|_| ()).map_err(|e| e.to_string())
}

/// Why a template was not rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// A variable the template uses has no value.
    Missing(String),
    /// The template is broken.
    Broken(String),
}

/// The variables a template uses (`order.status`, `contact.name`), sorted.
pub fn variables(template: &str) -> Result<Vec<String>, RenderError> {
    check_operators(template).map_err(RenderError::Broken)?;
    let t = ENV.template_from_str(template).map_err(|e| RenderError::Broken(e.to_string()))?;
    let mut vars: Vec<String> = t.undeclared_variables(true).into_iter().collect();
    vars.sort();
    Ok(vars)
}

fn lookup<'a>(vars: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(vars, |v, key| v.get(key))
}

/// Renders `template` with `vars`. A missing, null or (outside `contact`)
/// empty variable is an error naming it; an empty contact name is left out
/// gracefully ("Hi , …" becomes "Hi, …").
pub fn render(template: &str, vars: &Value) -> Result<String, RenderError> {
    check_operators(template).map_err(RenderError::Broken)?;
    let t = ENV.template_from_str(template).map_err(|e| RenderError::Broken(e.to_string()))?;
    let mut used: Vec<String> = t.undeclared_variables(true).into_iter().collect();
    used.sort();
    for path in used {
        let known = match lookup(vars, &path) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty() || path.starts_with("contact."),
            Some(_) => true,
        };
        if !known {
            return Err(RenderError::Missing(path));
        }
    }
    let text = t.render(minijinja::value::Serde(vars)).map_err(|e| RenderError::Broken(e.to_string()))?;
    Ok(tidy(&text))
}

/// Renders a built-in text with `vars`, or returns it as written when a
/// variable is missing (built-in texts are checked by tests).
pub fn render_or_raw(template: &str, vars: &Value) -> String {
    render(template, vars).unwrap_or_else(|_| template.to_owned())
}

/// Removes what an empty variable leaves behind: spaces before punctuation,
/// doubled spaces and a comma left alone by an empty name.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let punct = matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '，' | '。' | '！' | '？' | '、');
        if punct || c == ' ' {
            while out.ends_with(' ') {
                out.pop();
            }
            if c == ' ' && out.is_empty() {
                continue;
            }
        }
        // "Gern, ." → "Gern."; "Hallo ,!" → "Hallo!"
        if punct && c != ',' && out.ends_with(',') {
            out.pop();
        }
        if punct && c != '，' && c != '、' && out.ends_with(['，', '、']) {
            out.pop();
        }
        if c == ',' && out.ends_with(',') {
            continue;
        }
        if (c == '，' || c == '、') && out.ends_with(['，', '、', '。', '！']) {
            continue;
        }
        out.push(c);
    }
    out.trim().to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_that_would_run_away_is_stopped() {
        let vars = json!({"order": {"items": [1, 2, 3]}});
        for t in [
            "{{ ('i.', 0) * 22122224 }}",
            "{{ 'x' * 90000000 }}",
            "{% for i in [1, 2, 3, 4, 5] * 20000 %}{{ i }}{% endfor %}",
        ] {
            assert!(matches!(render(t, &vars), Err(RenderError::Broken(_))), "{t}");
        }
        // A star in text or inside a string is only a character.
        assert_eq!(render("5* service, {{ 'a*b' }}", &vars).unwrap(), "5* service, a*b");
        // What answers do still renders.
        let t = "{% for i in order.items %}{{ i }}{% if not loop.last %}, {% endif %}{% endfor %}";
        assert_eq!(render(t, &vars).unwrap(), "1, 2, 3");
    }

    #[test]
    fn renders_known_variables_and_names_the_missing_one() {
        let vars = json!({"contact": {"name": "Ana"}, "order": {"number": "1001", "status": "shipped"}});
        assert_eq!(
            render("Hi {{contact.name}}, order {{order.number}} is {{order.status}}.", &vars).unwrap(),
            "Hi Ana, order 1001 is shipped."
        );
        assert_eq!(
            render("Track it: {{order.tracking_url}}", &vars),
            Err(RenderError::Missing("order.tracking_url".into()))
        );
        let empty_shop = json!({"shop": {"returns_url": " "}});
        assert_eq!(render("{{shop.returns_url}}", &empty_shop), Err(RenderError::Missing("shop.returns_url".into())));
        assert!(matches!(render("{{ broken", &vars), Err(RenderError::Broken(_))));
        assert_eq!(variables("{{a.b}} {{c}} {% if d.e %}x{% endif %}").unwrap(), vec!["a.b", "c", "d.e"]);
    }

    #[test]
    fn an_empty_name_leaves_no_trace() {
        let vars = json!({"contact": {"name": ""}, "shop": {"name": "Shop"}});
        assert_eq!(render("Hi {{contact.name}}! Welcome to {{shop.name}}.", &vars).unwrap(), "Hi! Welcome to Shop.");
        assert_eq!(render("Hallo {{contact.name}}, Ihre Bestellung.", &vars).unwrap(), "Hallo, Ihre Bestellung.");
        assert_eq!(render("Gern, {{contact.name}}. Weiter.", &vars).unwrap(), "Gern. Weiter.");
        assert_eq!(render("好的，{{contact.name}}。请告诉我", &vars).unwrap(), "好的。请告诉我");
        assert_eq!(
            render("You're welcome, {{contact.name}}! See https://x.test/a.b?c=1", &vars).unwrap(),
            "You're welcome! See https://x.test/a.b?c=1"
        );
    }
}
