//! `cargo xtask dist` (not written yet).

pub fn run(_args: &[String]) -> anyhow::Result<std::path::PathBuf> {
    anyhow::bail!("not implemented yet")
}
