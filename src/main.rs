//! The `footfall` command: parse the command line, load settings, run one subcommand.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use footfall::config::Settings;
use footfall::store::{Site, Store, TokenRecord};
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
    /// Manage read-only report tokens (one site each; only their hash is stored).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Make a token that may read one site's reports; it is printed once, never stored.
    Create {
        /// The site whose reports the token may read.
        #[arg(long)]
        site: String,
        /// Free text to recognise the token by (who or what uses it).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List the tokens that are not revoked (ids, never the tokens).
    List {
        /// Only the tokens of this site.
        #[arg(long)]
        site: Option<String>,
    },
    /// Revoke a token by its id; running collectors refuse it within 10 s.
    Revoke { id: String },
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
        Command::Tokens { command } => tokens(command, &settings).await,
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

async fn tokens(command: TokensCommand, settings: &Settings) -> anyhow::Result<()> {
    let store = Store::new(&settings.clickhouse);
    store.migrate().await.context("applying the schema")?;
    match command {
        TokensCommand::Create { site, label } => {
            let site = site.trim().to_ascii_lowercase();
            let sites = store.list_sites().await.context("reading sites")?;
            if !sites.iter().any(|registered| registered.domain == site) {
                anyhow::bail!("no site {site} is registered; add it first with `footfall sites add {site}`");
            }
            let new = footfall::auth::new_token();
            let created_at = chrono::Utc::now().timestamp() as u32;
            let record = TokenRecord { id: new.id.clone(), site: site.clone(), hash: new.hash, label, created_at };
            store.put_token(&record).await.context("writing the token")?;
            eprintln!("token {} for site {site} created; it is shown once, store it now:", new.id);
            println!("{}", new.token);
        }
        TokensCommand::List { site } => {
            println!("{:<14} {:<40} {:<22} LABEL", "ID", "SITE", "CREATED (UTC)");
            for token in store.list_tokens().await.context("reading tokens")? {
                if site.as_ref().is_some_and(|site| *site != token.site) {
                    continue;
                }
                let created = chrono::DateTime::from_timestamp(i64::from(token.created_at), 0)
                    .map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                println!("{:<14} {:<40} {:<22} {}", token.id, token.site, created, token.label);
            }
        }
        TokensCommand::Revoke { id } => {
            if store.revoke_token(&id).await.context("revoking the token")? {
                println!("token {id} revoked");
            } else {
                anyhow::bail!("no token {id}; `footfall tokens list` shows the ids");
            }
        }
    }
    Ok(())
}
