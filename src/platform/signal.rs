//! Ctrl-C, SIGTERM (and their Windows console equivalents) during a measurement: stop cleanly
//! and still write the report. The platform layer installs the handlers; the rest of `measure`
//! only asks whether one fired.

pub(crate) use super::{
    forward_to, install_signal_handlers as install, received, signal_name as name,
};
