#!/bin/sh
# One-shot MinIO set-up (the `minio-init` service, minio/mc image):
#   - the bucket (S3_BUCKET, default ecg-videos), private;
#   - media-service's own access key, whose policy allows only that bucket
#     (the same least privilege as infra/aws: media-service may touch only the bucket);
#   - CORS: browsers PUT and GET the presigned URLs from FRONTEND_ORIGIN.
# Idempotent: `docker compose up` runs it again on every start.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}"
: "${S3_BUCKET:?}" "${S3_ACCESS_KEY_ID:?}" "${S3_SECRET_ACCESS_KEY:?}" "${FRONTEND_ORIGIN:?}"

work="$(mktemp -d)"
mc alias set ecg http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null

mc mb --ignore-existing "ecg/$S3_BUCKET"
mc anonymous set none "ecg/$S3_BUCKET" >/dev/null

# --- media-service's key: this bucket only -----------------------------------
cat >"$work/media-policy.json" <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Bucket",
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET"]
    },
    {
      "Sid": "Objects",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET/*"]
    }
  ]
}
JSON
mc admin user add ecg "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" >/dev/null
mc admin policy create ecg ecg-media "$work/media-policy.json" >/dev/null
# `attach` refuses a policy that is already attached (a second `up`): check the result instead.
mc admin policy attach ecg ecg-media --user "$S3_ACCESS_KEY_ID" >/dev/null 2>&1 || true
if ! mc admin user info ecg "$S3_ACCESS_KEY_ID" | grep -q ecg-media; then
  echo "minio-init: could not attach policy ecg-media to $S3_ACCESS_KEY_ID" >&2
  exit 1
fi
echo "minio-init: user $S3_ACCESS_KEY_ID may use bucket $S3_BUCKET only"

# --- CORS ----------------------------------------------------------------------
# The rule AWS gets (infra/aws/data.yaml): PUT/GET/HEAD from the frontend origin.
cat >"$work/cors.xml" <<XML
<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>$FRONTEND_ORIGIN</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3600</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
XML
if mc cors set "ecg/$S3_BUCKET" "$work/cors.xml" >/dev/null 2>&1; then
  echo "minio-init: bucket CORS set: PUT/GET/HEAD from $FRONTEND_ORIGIN"
else
  # MinIO's community edition answers NotImplemented to PutBucketCors; its CORS is
  # server-wide, set on the minio service by MINIO_API_CORS_ALLOW_ORIGIN (all methods).
  echo "minio-init: bucket CORS not supported by this MinIO; server-wide CORS allows $FRONTEND_ORIGIN (MINIO_API_CORS_ALLOW_ORIGIN)"
fi

rm -rf "$work"
echo "minio-init: bucket $S3_BUCKET ready"
