//! Services the commands share: the kernel connection and its checks (`session`), errors
//! as sentences and exit codes (`errors`), the change lock (`lock`), chunked batches with
//! progress and signals (`batches`, `progress`, `interrupt`), this machine's names and
//! files (`system`), the READLOG reader (`readlog`), atomic files (`atomic`), stdout
//! (`output`), "did you mean" (`suggest`), syslog (`syslog`). Nothing here imports a command module.

pub mod atomic;
pub mod batches;
pub mod enforce;
pub mod ensure;
pub mod errors;
pub mod interrupt;
pub mod keeper;
pub mod lock;
pub mod output;
pub mod progress;
pub mod readlog;
pub mod session;
pub mod source;
pub mod suggest;
pub mod syslog;
pub mod system;
