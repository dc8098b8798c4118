"""Maintainer build tools: `generate` writes exercises/ from solutions/, `execute` stores
notebooks' outputs. Not learner code: the grader's sandbox does not contain this package."""
