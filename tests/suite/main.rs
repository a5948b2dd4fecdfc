//! The integration tests, as one test binary (`cargo test --test suite`): one module per area,
//! sharing the helpers in `common`. Fixtures and support scripts stay in `tests/fixtures/` and
//! `tests/support/`; insta snapshots are in `tests/suite/snapshots/`, named
//! `suite__<module>__<name>.snap`.

mod common;

mod bad_input;
mod child;
mod cli_config;
mod cli_doctor_ignore;
mod cli_help;
mod cli_schema;
mod closed_pipes;
mod completions_shell;
mod concurrent_apply;
mod converge;
mod coverage_gates;
mod encodings;
mod escapes_upstream;
mod follow;
mod impact;
mod insights;
mod live_view;
mod npm_package;
mod one_engine;
mod parallel_scan;
mod plan_edit_regressions;
mod pr_github;
mod predict;
mod pushdown;
mod real_cli;
mod report_formats;
mod report_output;
mod scanner_properties;
mod scanner_regressions;
mod schema_fixtures;
mod schema_proptest;
mod schema_reader_regressions;
mod serve;
mod terminal_width;
mod toolchain_judge;
mod unknown_explained;
mod watch_cli;
