//! The scenario's sections: the top level, the service, the partners and the disputes,
//! each field read by its row of the table of inputs.

use serde_json::Value;

use super::super::inputs::{self, DISPUTE_KEYS, PARTNER_KEYS, SERVICE_KEYS, Section, TOP_KEYS};
use super::super::{CostSharing, Disputes, Partner, ScenarioData, Service};
use super::Checker;
use super::values::{child, kind};

impl Checker {
    /// The whole scenario: every section, then the checks that span sections (the
    /// correlations name inputs of all of them; min_members counts the founders).
    pub(super) fn scenario(&mut self, v: &Value) -> Option<ScenarioData> {
        let f = |name| inputs::get(Section::Top, name);
        let map = self.object(v, "", TOP_KEYS)?;
        let name = self.text_field(map, "", f("name"));
        if name.as_deref() == Some("") {
            self.err("/name", "must not be empty");
        }
        self.one_line("/name", name.as_deref());
        let description = self.text_field(map, "", f("description"));
        let currency = self.text_field(map, "", f("currency"));
        self.one_line("/currency", currency.as_deref());
        if let Some(v) = map.get("$schema") {
            self.string(v, "/$schema");
        }
        let horizon = self.whole_field(map, "", f("horizon_years"));
        let discount = self.discount(map.get("discount_rate"));
        let trials = self.whole_field(map, "", f("trials"));
        let seed = self.whole_field(map, "", f("seed"));
        let min_members = self.whole_field(map, "", f("min_members"));
        let contagion = self.dist_field(map, "", f("contagion"));
        let partners = self
            .required(map, "", "partners")
            .and_then(|v| self.partners(v));
        let service = self
            .required(map, "", "service")
            .and_then(|v| self.service(v, partners.as_deref()));
        let disputes = match map.get("disputes") {
            Some(v) => self.disputes(v),
            None => Some(Disputes::default()),
        };
        let repair = match map.get("repair_correlations") {
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.err(
                    "/repair_correlations",
                    format!("expected true or false, found {}", kind(other)),
                );
                false
            }
            None => false,
        };
        let correlations = match (
            map.get("correlations"),
            &service,
            &disputes,
            &contagion,
            &partners,
        ) {
            (None, ..) => Some(None),
            (Some(v), Some(service), Some(disputes), Some(contagion), Some(partners)) => self
                .correlations(v, service, disputes, contagion, partners, repair)
                .map(Some),
            // The inputs named are themselves invalid: reported where they are.
            (Some(_), ..) => None,
        };
        if let (Some(partners), Some(min)) = (&partners, min_members) {
            let founders = partners.iter().filter(|p| p.is_founder()).count() as u64;
            if founders < min {
                self.err(
                    "/min_members",
                    format!(
                        "min_members is {min} but only {founders} partner{} found the consortium \
                         (joins_year 0): it would collapse at once",
                        if founders == 1 { "" } else { "s" }
                    ),
                );
            }
        }
        Some(ScenarioData {
            name: name?,
            description: description?,
            currency: currency?,
            horizon_years: horizon? as usize,
            discount: discount?,
            trials: trials?,
            seed: seed?,
            min_members: min_members? as usize,
            service: service?,
            partners: partners?,
            disputes: disputes?,
            contagion: contagion?,
            correlations: correlations?,
        })
    }

    pub(super) fn service(&mut self, v: &Value, partners: Option<&[Partner]>) -> Option<Service> {
        const P: &str = "/service";
        let f = |name| inputs::get(Section::Service, name);
        let map = self.object(v, P, SERVICE_KEYS)?;
        let fixed_cost = self.dist_field(map, P, f("fixed_cost"));
        let efficiency = self.dist_field(map, P, f("efficiency"));
        let ramp = self.list_field(map, P, f("ramp"));
        let noise = self.number_field(map, P, f("efficiency_noise_sd"));
        let elasticity = self.number_field(map, P, f("scale_elasticity"));
        let transition_cost = self.dist_field(map, P, f("transition_cost"));
        let profile = self.list_field(map, P, f("transition_profile"));
        if let Some(profile) = &profile {
            let sum: f64 = profile.iter().sum();
            if (sum - 1.0).abs() > 1e-9 {
                self.err(
                    "/service/transition_profile",
                    format!("shares must sum to 1 (within 1e-9), but they sum to {sum}"),
                );
            }
        }
        let bias = self.number_field(map, P, f("optimism_bias"));
        let sharing = match map.get("cost_sharing") {
            None => Some(CostSharing::Proportional),
            Some(v) => self.cost_sharing(v, partners),
        };
        let delay_years = self.dist_field(map, P, f("delay_years"));
        let delay_cost = self.dist_field(map, P, f("delay_cost"));
        Some(Service {
            fixed_cost: fixed_cost?,
            efficiency: efficiency?,
            ramp: ramp?,
            efficiency_noise_sd: noise?,
            scale_elasticity: elasticity?,
            transition_cost: transition_cost?,
            transition_profile: profile?,
            optimism_bias: bias?,
            cost_sharing: sharing?,
            delay_years: delay_years?,
            delay_cost: delay_cost?,
        })
    }

    pub(super) fn partners(&mut self, v: &Value) -> Option<Vec<Partner>> {
        let Some(items) = v.as_array() else {
            self.err(
                "/partners",
                format!("expected a list of partners, found {}", kind(v)),
            );
            return None;
        };
        if items.is_empty() {
            self.err("/partners", "must list at least one partner");
            return None;
        }
        let before = self.problems.len();
        let partners: Vec<Option<Partner>> = items
            .iter()
            .enumerate()
            .map(|(i, p)| self.partner(p, &format!("/partners/{i}")))
            .collect();
        // Names are compared as written, so a duplicate is found even in a partner
        // with other problems.
        let names: Vec<Option<&str>> = items
            .iter()
            .map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        // Names that differ only by spaces at their ends, or by characters that do not
        // show (a zero-width space), look alike in every table and page: they are found
        // as duplicates too.
        let alike = |name: &str| -> String {
            let shown: String = name
                .chars()
                .filter(|c| !crate::scenario::hidden(*c))
                .collect();
            shown.trim().to_string()
        };
        let mut first_at: std::collections::HashMap<String, usize> = Default::default();
        for (i, name) in names.iter().enumerate() {
            let Some(name) = name else { continue };
            let j = *first_at.entry(alike(name)).or_insert(i);
            if j == i {
                continue;
            }
            let message = match names[j] {
                Some(first) if first != *name => {
                    // Name what a reader cannot see: the characters that do not show
                    // and the spaces other than a plain one.
                    let mut unseen: Vec<String> = Vec::new();
                    for c in first.chars().chain(name.chars()) {
                        let code = format!("U+{:04X}", u32::from(c));
                        let odd = crate::scenario::hidden(c) || (c.is_whitespace() && c != ' ');
                        if odd && !unseen.contains(&code) {
                            unseen.push(code);
                        }
                    }
                    let how = if unseen.is_empty() {
                        "by spaces at its ends".to_string()
                    } else {
                        format!(
                            "by spaces at its ends or characters that do not show ({})",
                            unseen.join(", ")
                        )
                    };
                    format!(
                        "partner name \"{name}\" differs from \"{first}\" (at /partners/{j}) \
                         only {how}, so the two would look alike in every table; give them \
                         different names"
                    )
                }
                _ => format!("duplicate partner name \"{name}\" (also at /partners/{j})"),
            };
            self.err(&format!("/partners/{i}/name"), message);
        }
        if self.problems.len() > before {
            return None;
        }
        partners.into_iter().collect()
    }

    /// A name or currency symbol is printed on one line of every table and report, so
    /// what would break the line or act on a terminal is refused, named and placed
    /// ([`crate::scenario::breaks_the_line`]).
    fn one_line(&mut self, at: &str, text: Option<&str>) {
        if let Some(what) = text.and_then(crate::scenario::breaks_the_line) {
            self.err(
                at,
                format!("{what}: it is printed on one line of tables and reports; remove it"),
            );
        }
    }

    pub(super) fn partner(&mut self, v: &Value, at: &str) -> Option<Partner> {
        let f = |name| inputs::get(Section::Partner, name);
        let map = self.object(v, at, PARTNER_KEYS)?;
        let name = self.text_field(map, at, f("name"));
        if name.as_deref() == Some("") {
            self.err(&child(at, "name"), "must not be empty");
        }
        self.one_line(&child(at, "name"), name.as_deref());
        let baseline = self.dist_field(map, at, f("baseline_cost"));
        let joins_year = self.join_year_field(map, at, f("joins_year"));
        let join_probability = self.dist_field(map, at, f("join_probability"));
        let onboarding_cost = self.dist_field(map, at, f("onboarding_cost"));
        let withdrawal_hazard = self.dist_field(map, at, f("withdrawal_hazard"));
        let hazard_profile = self.list_field(map, at, f("hazard_profile"));
        let sensitivity = self.number_field(map, at, f("disappointment_sensitivity"));
        let lock_in_years = self.whole_field(map, at, f("lock_in_years"));
        let exit_fee = self.dist_field(map, at, f("exit_fee"));
        let reestablish_cost = self.dist_field(map, at, f("reestablish_cost"));
        let rejoin_probability = self.dist_field(map, at, f("rejoin_probability"));
        let rejoin_fee = self.dist_field(map, at, f("rejoin_fee"));
        Some(Partner {
            name: name?,
            baseline_cost: baseline?,
            joins_year: joins_year?,
            join_probability: join_probability?,
            onboarding_cost: onboarding_cost?,
            withdrawal_hazard: withdrawal_hazard?,
            hazard_profile: hazard_profile?,
            disappointment_sensitivity: sensitivity?,
            lock_in_years: lock_in_years? as usize,
            exit_fee: exit_fee?,
            reestablish_cost: reestablish_cost?,
            rejoin_probability: rejoin_probability?,
            rejoin_fee: rejoin_fee?,
        })
    }

    pub(super) fn disputes(&mut self, v: &Value) -> Option<Disputes> {
        const P: &str = "/disputes";
        let f = |name| inputs::get(Section::Disputes, name);
        let map = self.object(v, P, DISPUTE_KEYS)?;
        let annual_probability = self.number_field(map, P, f("annual_probability"));
        let resolution_probability = self.number_field(map, P, f("resolution_probability"));
        let annual_cost = self.dist_field(map, P, f("annual_cost"));
        let efficiency_loss = self.number_field(map, P, f("efficiency_loss"));
        let hazard_uplift = self.number_field(map, P, f("hazard_uplift"));
        Some(Disputes {
            annual_probability: annual_probability?,
            resolution_probability: resolution_probability?,
            annual_cost: annual_cost?,
            efficiency_loss: efficiency_loss?,
            hazard_uplift: hazard_uplift?,
        })
    }
}
