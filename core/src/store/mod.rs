//! Backups as stored: file names ([`names`]) and the manifest beside each
//! backup ([`manifest`]), a Redis Cluster's backup sets ([`set`]). Repository URLs and object layouts belong here.
pub mod manifest;
pub mod names;
pub mod set;
