//! Backups as stored: file names ([`names`]) and the manifest beside each
//! backup ([`manifest`]). Repository URLs and object layouts belong here.
pub mod manifest;
pub mod names;
