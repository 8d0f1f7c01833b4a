//! The labels of the document fields the sync reads and writes, declared with the entities in
//! `model::schema::fields`; re-exported here for the client and the simulator.

pub use crate::model::schema::fields::*;
