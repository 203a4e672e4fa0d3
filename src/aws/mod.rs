//! AWS: the S3 clients (Supabase Storage's S3 endpoint and the target
//! buckets) and Secrets Manager. Credentials follow the SDK's default chain
//! unless the config names keys; endpoints come from the config file, else
//! the SDK's own `AWS_ENDPOINT_URL*` variables.

pub mod s3;
pub mod secrets;

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Loads the SDK's shared config. The region from our config wins over the
/// environment's.
pub async fn sdk_config(region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    loader.load().await
}

/// One line for an SDK error: the HTTP status or the transport failure,
/// never the request (which may carry signed credentials).
pub(crate) fn describe<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            match (e.code(), e.message()) {
                (Some(code), Some(msg)) => format!("{code}: {msg}"),
                (Some(code), None) => code.to_string(),
                _ => e.to_string(),
            }
        }
        SdkError::DispatchFailure(d) => {
            if d.is_io() {
                "cannot reach the endpoint (connection failed)".to_string()
            } else if d.is_timeout() {
                "the endpoint timed out".to_string()
            } else {
                let mut msg = "request could not be sent".to_string();
                let mut src = std::error::Error::source(err);
                while let Some(s) = src {
                    msg = format!("{msg}: {s}");
                    src = s.source();
                }
                msg
            }
        }
        SdkError::TimeoutError(_) => "the endpoint timed out".to_string(),
        SdkError::ConstructionFailure(_) => {
            let mut msg = "request could not be built".to_string();
            let mut src = std::error::Error::source(err);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            msg
        }
        other => other.to_string(),
    }
}
