//! The labels of the document fields the sync reads and writes. Passportal's documents hold
//! numbered field slots, each `{"name": <label>, "value": {...}}`; these labels are the
//! project's convention (assumed, like the templates: check them against your instance's
//! templates), shared by the client, the extract and the simulator.

/// Carries the source record's Autotask id, so a later run finds the document again even if the
/// ledger is lost.
pub const AUTOTASK_ID: &str = "Autotask ID";

pub const FIRST_NAME: &str = "First Name";
pub const LAST_NAME: &str = "Last Name";
pub const EMAIL: &str = "Email";
pub const PHONE: &str = "Phone";
pub const MOBILE: &str = "Mobile Phone";
pub const TITLE: &str = "Title";
pub const ADDRESS: &str = "Address";
pub const ADDRESS_2: &str = "Address 2";
pub const CITY: &str = "City";
pub const STATE: &str = "State";
pub const POSTAL_CODE: &str = "Postal Code";
pub const SERIAL_NUMBER: &str = "Serial Number";
pub const ASSET_TYPE: &str = "Asset Type";
pub const HOSTNAME: &str = "Hostname";
