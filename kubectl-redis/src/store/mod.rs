//! Where backups are kept, on this side: files written whole ([`files`]),
//! RDB files checked on disk ([`rdbfile`]), a local directory of backups
//! ([`local`]). Object-storage repositories and encryption belong here.
pub mod files;
pub mod local;
pub mod rdbfile;
