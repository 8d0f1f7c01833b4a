//! Where a pipeline's credentials are resolved: the names the pipeline file gives, looked up in
//! the process environment and then in a credentials file readable only by its owner. Kept
//! apart from the settings (`pipeline`) because this is the one place that handles secret
//! values; tests and the demo pass their own lookup instead of the process environment.

use crate::model::credentials::{AutotaskCredentials, PassportalCredentials, Secret};
use crate::model::pipeline::{Pipeline, PipelineError};
use std::collections::BTreeMap;
use std::path::Path;

/// Where credential values are looked up: the process environment, then the credentials file.
/// Tests and the demo supply their own lookup instead of touching the process environment.
pub trait CredentialSource {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Environment;

impl CredentialSource for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl CredentialSource for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        BTreeMap::get(self, name).cloned()
    }
}

/// Values from a credentials file, layered under another source.
struct WithFile<'a> {
    first: &'a dyn CredentialSource,
    file: BTreeMap<String, String>,
}

impl CredentialSource for WithFile<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.first
            .get(name)
            .or_else(|| self.file.get(name).cloned())
    }
}

/// Read a credentials file: TOML `NAME = "value"` pairs, refused unless only its owner can read it.
fn read_credentials_file(path: &Path) -> Result<BTreeMap<String, String>, PipelineError> {
    use std::os::unix::fs::PermissionsExt;
    let err = |message: String| PipelineError::CredentialsFile {
        path: path.to_path_buf(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(err(format!(
            "is readable by others (mode {mode:o}); run `chmod 600 {}`",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    // The parse error of a secrets file could quote a secret: say only where it is.
    toml::from_str::<BTreeMap<String, String>>(&text).map_err(|e| {
        let span = e
            .span()
            .map(|s| format!(" near byte {}", s.start))
            .unwrap_or_default();
        err(format!("is not `NAME = \"value\"` lines{span}"))
    })
}

impl Pipeline {
    fn source<'a>(
        &self,
        env: &'a dyn CredentialSource,
    ) -> Result<Box<dyn CredentialSource + 'a>, PipelineError> {
        match &self.credentials_file {
            Some(path) => Ok(Box::new(WithFile {
                first: env,
                file: read_credentials_file(path)?,
            })),
            None => Ok(Box::new(Lookup(env))),
        }
    }

    fn need(
        &self,
        source: &dyn CredentialSource,
        what: &'static str,
        var: &str,
    ) -> Result<String, PipelineError> {
        source
            .get(var)
            .ok_or_else(|| PipelineError::MissingCredential {
                what,
                var: var.to_string(),
                file_hint: match &self.credentials_file {
                    Some(p) => format!(" or add it to {}", p.display()),
                    None => String::new(),
                },
            })
    }

    /// Resolve the Autotask credentials named by this pipeline.
    pub fn autotask_credentials(
        &self,
        env: &dyn CredentialSource,
    ) -> Result<AutotaskCredentials, PipelineError> {
        let source = self.source(env)?;
        let c = &self.autotask;
        Ok(AutotaskCredentials {
            username: self.need(&*source, "Autotask user name", &c.username_env)?,
            integration_code: Secret::new(self.need(
                &*source,
                "Autotask integration code",
                &c.integration_code_env,
            )?),
            secret: Secret::new(self.need(&*source, "Autotask secret", &c.secret_env)?),
        })
    }

    /// Resolve the Passportal access key named by this pipeline.
    pub fn passportal_credentials(
        &self,
        env: &dyn CredentialSource,
    ) -> Result<PassportalCredentials, PipelineError> {
        let source = self.source(env)?;
        let c = &self.passportal;
        Ok(PassportalCredentials {
            key_id: Secret::new(self.need(&*source, "Passportal access key id", &c.key_id_env)?),
            secret: Secret::new(self.need(&*source, "Passportal secret", &c.secret_env)?),
        })
    }
}

struct Lookup<'a>(&'a dyn CredentialSource);

impl CredentialSource for Lookup<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name)
    }
}
