//! The shipped scenarios, as both benches load them, and a rayon pool of a given size.

use std::path::Path;

use consortium_sim::plan::Plan;
use consortium_sim::scenario::{self, Scenario};

/// Every scenario in scenarios/, the reference one (timed on two threads too) first.
pub const SHIPPED: &[&str] = &[
    "four_districts_back_office",
    "county_districts_ict",
    "departments_shared_service_centre",
    "eight_councils_revenues_benefits",
    "london_boroughs_strong_governance",
    "mixed_jv_county_district_police",
    "social_care_formal",
    "social_care_informal",
];

/// A shipped scenario and its compiled plan.
pub fn load(name: &str) -> (Scenario, Plan) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.json"));
    let s = scenario::load_file(&path).expect("shipped scenario validates");
    let plan = Plan::compile(&s);
    (s, plan)
}

pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("threads start")
}
