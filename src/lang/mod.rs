//! The pipeline language: lexer, parser, AST, values and evaluation.

pub(crate) mod ast;
mod compare;
pub(crate) mod error;
pub(crate) mod eval;
pub(crate) mod func;
pub(crate) mod lexer;
mod needles;
mod number;
pub(crate) mod parser;
pub(crate) mod tree;
pub(crate) mod value;
pub(crate) mod wide;

pub(crate) use ast::{Expr, Path, StageAst, StageSpec};
pub(crate) use error::{LangError, Span};
#[cfg(feature = "nats")]
pub(crate) use eval::Subjects;
pub(crate) use eval::{Env, Record};
pub(crate) use needles::Needles;
pub(crate) use parser::{parse_expr, parse_pipeline, parse_template};
pub(crate) use value::Val;
