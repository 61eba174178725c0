//! Insights: what reports count about conversations. [`facts`] turns one
//! conversation's history into its facts row; [`report`] turns facts rows
//! into figures; [`rollup`] adds them up per day and value; [`hours`] measures time in an inbox's business hours; [`products`] counts
//! defect feedback per SKU.

pub mod facts;
pub mod hours;
pub mod products;
pub mod report;
pub mod rollup;

pub use facts::*;
pub use hours::*;
pub use products::*;
pub use report::*;
pub use rollup::*;
