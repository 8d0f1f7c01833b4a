//! The pipeline's stages, in the order data flows through them: extract → match (the review
//! tables are written and read by `review`) → plan → load (which ends with a verify). A stage
//! reads only what the stage before it wrote.

pub mod extract;
pub mod load;
pub mod matching;
pub mod plan;
pub mod review;
