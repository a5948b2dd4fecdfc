//! The environment as every command reads it: a variable set to blanks counts as unset.

pub(crate) fn nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
