//! Where backups are kept, on this side: files written whole ([`files`]),
//! RDB files checked on disk ([`rdbfile`]), a local directory of backups
//! ([`local`]), object-storage repositories ([`repo`]), the byte sink a
//! backup streams into ([`sink`]), one backup copied whole into a
//! repository ([`copy`]) and age encryption ([`crypt`]).
pub mod copy;
pub mod create_only;
pub mod crypt;
pub mod files;
pub mod kms;
pub mod local;
pub mod multi;
pub mod put;
pub mod rdbfile;
pub mod repo;
pub mod sink;
pub mod source;
pub mod trust;
