//! Target credentials from AWS Secrets Manager in the RDS secret format
//! (`{"username","password","host","port","dbname","engine"}`). The secret's
//! values are never logged or put into an error.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::pg::Endpoint;
use crate::settings::{Secret, SecretRef, Settings};

#[derive(Deserialize)]
struct RdsSecret {
    username: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<PortValue>,
    dbname: Option<String>,
}

/// RDS writes the port as a number; hand-made secrets often use a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum PortValue {
    Number(u16),
    Text(String),
}

/// The target endpoint, with credentials from the secret when one is set.
pub async fn target_endpoint(settings: &Settings) -> Result<Endpoint> {
    let target = settings.target()?;
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let mut info = target.conninfo.clone();
    if let Some(secret) = &target.secret {
        let value = fetch(secret).await?;
        let parsed: RdsSecret = serde_json::from_str(value.expose()).map_err(|_| {
            Error::config(format!(
                "target.secret_id {}: the secret is not RDS secret JSON",
                secret.id
            ))
            .with_fix("store {\"username\",\"password\",\"host\",\"port\",\"dbname\"} as the secret string")
        })?;
        if parsed.username.is_some() {
            info.user = parsed.username;
        }
        if let Some(pw) = parsed.password {
            info.password = Some(Secret::new(pw));
        }
        if info.host.is_none() {
            info.host = parsed.host;
        }
        if info.port.is_none() {
            info.port = match parsed.port {
                Some(PortValue::Number(p)) => Some(p),
                Some(PortValue::Text(t)) => t.parse().ok(),
                None => None,
            };
        }
        if info.dbname.is_none() {
            info.dbname = parsed.dbname;
        }
    }
    info.complete("target.url", &env, target.password.clone())
}

async fn fetch(secret: &SecretRef) -> Result<Secret> {
    let sdk = super::sdk_config(secret.region.as_deref()).await;
    let mut conf = aws_sdk_secretsmanager::config::Builder::from(&sdk);
    if let Some(endpoint) = &secret.endpoint {
        conf = conf.endpoint_url(endpoint);
    }
    let client = aws_sdk_secretsmanager::Client::from_conf(conf.build());
    let out = client
        .get_secret_value()
        .secret_id(&secret.id)
        .send()
        .await
        .map_err(|e| {
            use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
            let code = e.code().unwrap_or_default().to_string();
            let (why, fix) = match code.as_str() {
                "ResourceNotFoundException" => (
                    "secret not found".to_string(),
                    "check target.secret_id (name or ARN) and the region",
                ),
                "AccessDeniedException" | "UnrecognizedClientException" => (
                    "access denied".to_string(),
                    "give the AWS identity secretsmanager:GetSecretValue on this secret",
                ),
                _ => (
                    super::describe(&e),
                    "check AWS credentials, region and network access to Secrets Manager",
                ),
            };
            Error::config(format!("target.secret_id {}: {why}", secret.id))
                .with_source(e)
                .with_fix(fix)
        })?;
    out.secret_string().map(Secret::new).ok_or_else(|| {
        Error::config(format!(
            "target.secret_id {}: the secret has no string value",
            secret.id
        ))
        .with_fix("store the RDS secret JSON as SecretString")
    })
}
