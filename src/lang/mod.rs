//! The pipeline language: lexer, parser, AST, values and evaluation.

pub mod ast;
mod compare;
pub mod error;
pub mod eval;
pub mod func;
pub mod lexer;
mod number;
pub mod parser;
mod tree;
pub mod value;

pub use ast::{Expr, Path, StageAst, StageSpec};
pub use error::{LangError, Span};
pub use eval::Env;
pub use parser::{parse_expr, parse_pipeline, parse_template};
pub use value::Val;
