//! S3 clients for both ends of the storage copy, and bucket checks for `plan`.

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::Client;

use crate::error::{Error, Result};
use crate::settings::{RequestChecksum, S3Settings};

/// Builds a client. `what` names the config section in errors.
pub async fn client(what: &str, s: &S3Settings) -> Result<Client> {
    let sdk = super::sdk_config(s.region.as_deref()).await;
    if sdk.region().is_none() {
        return Err(Error::config(format!("{what}: no region"))
            .with_fix(format!("set region in [{what}] or AWS_REGION")));
    }
    let mut conf = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(s.force_path_style);
    if let Some(endpoint) = &s.endpoint {
        conf = conf.endpoint_url(endpoint);
    }
    if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
        conf = conf.credentials_provider(Credentials::new(
            id,
            secret.expose(),
            None,
            None,
            "supamigrate-config",
        ));
    }
    if s.request_checksum == RequestChecksum::WhenRequired {
        conf = conf
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    }
    Ok(Client::from_conf(conf.build()))
}

/// Checks that a bucket exists and we may use it; one line with the fix if not.
pub async fn check_bucket(client: &Client, what: &str, bucket: &str) -> Result<()> {
    match client.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            Err(match status {
                Some(404) => Error::config(format!("{what}: bucket `{bucket}` does not exist"))
                    .with_fix("create the bucket, or fix the bucket mapping"),
                Some(403) => Error::config(format!("{what}: access denied to bucket `{bucket}`"))
                    .with_fix(
                    "grant s3:ListBucket, s3:GetObject and s3:PutObject on it to the AWS identity",
                ),
                Some(301) => {
                    Error::config(format!("{what}: bucket `{bucket}` is in another region"))
                        .with_fix("set the bucket's region in the config")
                }
                _ => Error::config(format!(
                    "{what}: bucket `{bucket}`: {}",
                    super::describe(&err)
                ))
                .with_source(err)
                .with_fix("check the endpoint, region and AWS credentials"),
            })
        }
    }
}
