//! Where state lives: the repository over SQLite or Postgres (`db`, every SQL statement)
//! and the object store over files or S3 (`storage`). Depends on the domain only.

pub mod db;
pub mod storage;
