//! Link-time routing: which provider's connection flow a user is sent to for an institution.
//!
//! Rules, in order: the institution's preferred provider; its fallback when trading is needed and
//! only the fallback can trade there; an unlisted institution goes to Plaid, or to SnapTrade when
//! trading is needed. Then health: a provider that is unconfigured, down, in maintenance for the
//! institution or failing there too often is passed over for the next one, and the decision says
//! why. When no candidate is usable the answer is a typed error, never an unusable provider.

use super::{CoverageMap, CoverageRule, ProviderHealth, ProviderProblem};
use crate::capabilities::routing_can_trade;
use crate::domain::{InstitutionSlug, Provider};
use crate::error::ErrorCode;
use crate::institutions::AliasTable;
use serde::{Deserialize, Serialize};

/// A provider that was considered and skipped, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassedOver {
    pub provider: Provider,
    pub problem: ProviderProblem,
}

/// Why the chosen provider was chosen, for programs (the decision's `message` is for people).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RoutingReason {
    /// The coverage map's preferred provider for the institution.
    Preferred,
    /// Trading was needed and only the coverage map's fallback can trade at the institution.
    TradingNeedsFallback,
    /// The institution is not in the coverage map and no trading is needed: Plaid.
    UnknownInstitution,
    /// The institution is not in the coverage map and trading is needed: SnapTrade.
    UnknownInstitutionNeedsTrading,
    /// The first choice could not serve the institution now, so the next candidate was taken.
    FellBack { from: Provider, problem: ProviderProblem },
}

/// The answer of [`choose_provider`]: where to send the user, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingDecision {
    /// The resolved slug; `None` when the name matched no alias.
    pub institution: Option<InstitutionSlug>,
    /// The name to show, when the institution is known.
    pub display_name: Option<String>,
    pub provider: Provider,
    pub reason: RoutingReason,
    /// One or two sentences for people, saying the same as `reason`.
    pub message: String,
    /// Whether trading will be possible through the chosen provider (given a trade connection).
    pub trading_available: bool,
    /// Whether the chosen provider is not the institution's first choice (preferred, or the
    /// default for an unlisted institution).
    pub used_fallback: bool,
    /// Candidates skipped before the chosen one, in the order they were tried.
    pub passed_over: Vec<PassedOver>,
}

/// Why no routing decision could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("an institution name is required")]
    EmptyInstitution,
    #[error("no provider can connect {institution} right now: {}", describe(.passed_over))]
    NoUsableProvider { institution: String, passed_over: Vec<PassedOver> },
}

fn describe(passed_over: &[PassedOver]) -> String {
    let parts: Vec<String> = passed_over.iter().map(|p| format!("{} ({})", label(p.provider), p.problem)).collect();
    parts.join("; ")
}

impl ErrorCode for RoutingError {
    fn code(&self) -> &'static str {
        match self {
            Self::EmptyInstitution => "institution_required",
            Self::NoUsableProvider { .. } => "no_provider_available",
        }
    }
    fn http_status(&self) -> u16 {
        match self {
            Self::EmptyInstitution => 400,
            Self::NoUsableProvider { .. } => 503,
        }
    }
}

fn label(provider: Provider) -> &'static str {
    provider.display_name()
}

/// Routes an institution name or slug with the embedded alias table and coverage map.
pub fn choose_provider(
    institution: &str,
    need_trading: bool,
    provider_health: &ProviderHealth,
) -> Result<RoutingDecision, RoutingError> {
    CoverageMap::embedded().choose_provider(AliasTable::embedded(), institution, need_trading, provider_health)
}

impl CoverageMap {
    /// Routes an institution name or slug with this map and `aliases` (see the module rules).
    pub fn choose_provider(
        &self,
        aliases: &AliasTable,
        institution: &str,
        need_trading: bool,
        provider_health: &ProviderHealth,
    ) -> Result<RoutingDecision, RoutingError> {
        let name = institution.trim();
        if name.is_empty() {
            return Err(RoutingError::EmptyInstitution);
        }
        let slug =
            aliases.resolve(name).or_else(|| InstitutionSlug::parse(name).ok().filter(|s| self.rule(s).is_some()));
        let rule = slug.as_ref().and_then(|s| self.rule(s));
        let display_name = rule
            .map(|r| r.display_name.clone())
            .or_else(|| slug.as_ref().and_then(|s| aliases.display_name(s)).map(str::to_owned));
        let (candidates, first_reason) = candidates(rule, need_trading);
        let mut passed_over = Vec::new();
        let mut chosen = None;
        for provider in candidates.iter().copied() {
            match provider_health.problem(provider, slug.as_ref()) {
                None => {
                    chosen = Some(provider);
                    break;
                }
                Some(problem) => passed_over.push(PassedOver { provider, problem }),
            }
        }
        let shown = display_name.clone().unwrap_or_else(|| name.to_owned());
        let Some(provider) = chosen else {
            return Err(RoutingError::NoUsableProvider { institution: shown, passed_over });
        };
        let reason = match passed_over.first() {
            Some(skipped) => RoutingReason::FellBack { from: skipped.provider, problem: skipped.problem },
            None => first_reason,
        };
        let trading_available = routing_can_trade(provider, rule);
        let primary = rule.map_or(candidates[0], |r| r.preferred);
        let mut message = explain(&shown, provider, reason, rule);
        if need_trading && !trading_available {
            message.push_str(&format!(" Trading is not available for {shown} through {}.", label(provider)));
        }
        Ok(RoutingDecision {
            institution: slug,
            display_name,
            provider,
            reason,
            message,
            trading_available,
            used_fallback: provider != primary,
            passed_over,
        })
    }
}

/// The providers to try in order, and the reason that holds if the first one is usable.
fn candidates(rule: Option<&CoverageRule>, need_trading: bool) -> (Vec<Provider>, RoutingReason) {
    match rule {
        Some(rule) => match rule.fallback {
            Some(fallback)
                if need_trading
                    && !routing_can_trade(rule.preferred, Some(rule))
                    && routing_can_trade(fallback, Some(rule)) =>
            {
                (vec![fallback, rule.preferred], RoutingReason::TradingNeedsFallback)
            }
            _ => (rule.providers().collect(), RoutingReason::Preferred),
        },
        None if need_trading => {
            (vec![Provider::SnapTrade, Provider::Plaid], RoutingReason::UnknownInstitutionNeedsTrading)
        }
        None => (vec![Provider::Plaid, Provider::SnapTrade], RoutingReason::UnknownInstitution),
    }
}

fn explain(name: &str, provider: Provider, reason: RoutingReason, rule: Option<&CoverageRule>) -> String {
    let to = label(provider);
    match reason {
        RoutingReason::Preferred => format!("{name} connects through {to}, its preferred provider."),
        RoutingReason::TradingNeedsFallback => {
            let preferred = rule.map_or("its preferred provider", |r| label(r.preferred));
            format!("{name} connects through {to} because trading was requested and {preferred} cannot trade there.")
        }
        RoutingReason::UnknownInstitution => {
            format!("{name} is not in the coverage map; institutions without a rule connect through {to}.")
        }
        RoutingReason::UnknownInstitutionNeedsTrading => format!(
            "{name} is not in the coverage map; trading was requested, so it connects through {to}, which can trade."
        ),
        RoutingReason::FellBack { from, problem: problem @ ProviderProblem::HighFailureRate { .. } } => {
            format!("{} is failing for {name} right now ({problem}); connecting through {to}.", label(from))
        }
        RoutingReason::FellBack { from, problem } => {
            format!("{name} connects through {to} because {} was passed over: {problem}.", label(from))
        }
    }
}

#[cfg(test)]
#[path = "routing_tests.rs"]
mod tests;
