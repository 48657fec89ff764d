//! Renderers: every way a run's or an analysis's figures leave the program.
//!
//! Nothing here computes a figure: [`crate::summary`] and [`crate::analysis`] do, and
//! these modules only format them (terminal text, JSON, HTML pages with [`charts`], CSV,
//! the trace's story), with numbers and money through one module, [`format`].

pub mod analysis;
pub mod charts;
pub mod format;
pub mod html;
pub mod json;
pub mod story;
pub mod terminal;
pub mod trials_csv;
