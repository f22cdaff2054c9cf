//! The `footfall` command: parse the command line, load settings, run one subcommand.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use footfall::config::Settings;
use footfall::store::{Site, Store};
use footfall::{init_logging, Application};

/// Privacy-first web analytics collector.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Config file (default: $FOOTFALL_CONFIG, else ./footfall.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the schema, then serve the event intake and operations endpoints.
    Serve,
    /// Create the database and apply every pending schema migration.
    Migrate,
    /// Manage the sites footfall accepts events for.
    Sites {
        #[command(subcommand)]
        command: SitesCommand,
    },
}

#[derive(Subcommand)]
enum SitesCommand {
    /// Register a site (or update its time zone and origins).
    Add {
        /// The site's domain; pages on it and its subdomains may send events.
        domain: String,
        /// IANA time zone for the site's reports.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// A further origin allowed to send events for the site (repeatable).
        #[arg(long = "origin", value_name = "ORIGIN")]
        origins: Vec<String>,
    },
    /// List registered sites.
    List,
    /// Stop accepting events for a site (its events stay).
    Remove { domain: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings.log_level)?;
    match cli.command {
        Command::Serve => Application::build(settings).await?.run_until_stopped().await,
        Command::Migrate => {
            let store = Store::new(&settings.clickhouse);
            let applied = store.migrate().await.context("applying the schema")?;
            println!("database `{}`: applied {} migration(s) {:?}", store.database(), applied.len(), applied);
            Ok(())
        }
        Command::Sites { command } => sites(command, &settings).await,
    }
}

async fn sites(command: SitesCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = Store::new(&settings.clickhouse);
    store.migrate().await.context("applying the schema")?;
    match command {
        SitesCommand::Add { domain, timezone, origins } => {
            let site = Site::new(&domain, &timezone, &origins)?;
            store.put_site(&site).await.context("writing the site")?;
            println!("site {} added (time zone {})", site.domain, site.timezone);
        }
        SitesCommand::List => {
            println!("{:<40} {:<24} ORIGINS", "DOMAIN", "TIMEZONE");
            for site in store.list_sites().await.context("reading sites")? {
                println!("{:<40} {:<24} {}", site.domain, site.timezone, site.origins.join(" "));
            }
        }
        SitesCommand::Remove { domain } => {
            if store.remove_site(&domain).await.context("removing the site")? {
                println!("site {domain} removed");
            } else {
                anyhow::bail!("no site {domain} is registered");
            }
        }
    }
    Ok(())
}
