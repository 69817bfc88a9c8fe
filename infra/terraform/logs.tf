# The app's logs (and the migrate task's) in one CloudWatch log group, encrypted with
# the app's key and kept var.log_retention_days.

resource "aws_cloudwatch_log_group" "app" {
  name              = "/${local.name}/app"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  # CloudWatch Logs must be allowed to use the key first (kms.tf).
  depends_on = [aws_kms_key_policy.main]
}

# The worker tasks' logs, kept and encrypted the same way.
resource "aws_cloudwatch_log_group" "worker" {
  name              = "/${local.name}/worker"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn

  depends_on = [aws_kms_key_policy.main]
}
