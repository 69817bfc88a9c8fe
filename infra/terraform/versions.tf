# Terraform and provider versions. The AWS provider is pinned to the 6.x line; the
# offline schema check (tests/infra) uses the argument lists of provider 6.25.0, so
# moving the pin means regenerating tests/infra/provider_schemas.json
# (scripts/terraform-provider-schemas).
terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.1"
    }
  }

  # Remote state: the state holds generated secrets (database password, Redis token,
  # SECRET_KEY, the CloudFront signing key), so keep it in an encrypted, versioned bucket
  # that only operators can read. Create the bucket once, uncomment, then
  # `terraform init -migrate-state`.
  #
  # backend "s3" {
  #   bucket       = "example-terraform-state"
  #   key          = "imageshare/production.tfstate"
  #   region       = "eu-west-1"
  #   encrypt      = true
  #   use_lockfile = true
  # }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
