//! The hot loop of one shipped scenario, run once on one thread, for counting its
//! instructions under valgrind (`benches/instructions.sh`): a count that, unlike a
//! time, does not move when the machine is busy, so a change that keeps every figure
//! the same to the bit can be judged on a shared host whose timings swing by 2x.
//!
//! `instructions SCENARIO TRIALS` runs `engine::run` over TRIALS trials of the shipped
//! scenario SCENARIO (its file name without `.json`) and prints the partner-years it
//! ran. Run as a bench (`cargo bench`, which passes `--bench`), it only says how it is
//! meant to be used: it times nothing.

#[path = "shipped.rs"]
mod shipped;

use consortium_sim::engine;
use shipped::{SHIPPED, load, pool};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(name), Some(trials)) = (args.first(), args.get(1)) else {
        println!("instructions: run benches/instructions.sh to count the hot loop's instructions");
        return;
    };
    if !SHIPPED.contains(&name.as_str()) {
        eprintln!(
            "instructions: no shipped scenario {name} (one of: {})",
            SHIPPED.join(", ")
        );
        std::process::exit(2);
    }
    let Ok(trials) = trials.parse::<usize>() else {
        eprintln!("instructions: TRIALS must be a whole number, not {trials}");
        std::process::exit(2);
    };
    let (_, plan) = load(name);
    let outcomes = pool(1).install(|| engine::run(&plan, 1, 0, trials));
    // Printed, so that the run cannot be optimised away.
    println!(
        "{} partner-years, mean NPV {:.2}",
        trials * plan.partners * plan.horizon,
        outcomes.npv.iter().sum::<f64>() / trials as f64
    );
}
