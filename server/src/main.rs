//! The `latchkey` binary: parses the command line and runs a subcommand (`serve` by default).

use clap::{Parser, Subcommand};
use latchkey_server::Config;

#[derive(Parser)]
#[command(name = "latchkey", version, about = "The Latchkey authentication server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations, then serve (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
    /// Create a staff superuser (the password from --password-stdin or a prompt).
    CreateSuperuser {
        /// The superuser's e-mail address.
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Encrypt every TOTP secret still under an old key (LATCHKEY_OLD_ENCRYPTION_KEYS) with
    /// LATCHKEY_ENCRYPTION_KEY, and exit.
    Rekey,
    /// Import users, password hashes and django-otp devices from a Django database, then print a
    /// summary. Running it again changes nothing.
    ImportDjango {
        /// The Django database: sqlite:///path/to/db.sqlite3 or postgres://user:pass@host/name.
        #[arg(long = "database-url")]
        source_url: String,
        /// The user table, when not `auth_user` (a custom user model with AbstractUser's columns).
        #[arg(long, default_value = "auth_user")]
        user_table: String,
        /// Report what would be imported, and write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the OpenAPI document (the one `GET /api/schema/` serves) and exit.
    Openapi,
    /// JWT signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print the steps that replace the signing key (or HS256 secret) without refusing a valid token,
    /// for the keys configured now.
    Rotate,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("latchkey: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    // Logs go to stderr; stdout carries only the `listening on` line that scripts wait for.
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.config.log).unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(filter);
    if cli.config.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => latchkey_server::serve(cli.config).await,
        Command::Migrate => Ok(latchkey_server::migrate(&cli.config).await?),
        Command::Openapi => {
            println!("{}", latchkey_server::openapi::document().to_pretty_json()?);
            Ok(())
        }
        Command::ImportDjango { source_url, user_table, dry_run } => {
            let summary = latchkey_server::cli::import_django(cli.config, &source_url, &user_table, dry_run).await?;
            print!("{summary}");
            Ok(())
        }
        Command::Keys { command: KeysCommand::Rotate } => {
            print!("{}", latchkey_server::cli::keys_rotate(&cli.config)?);
            Ok(())
        }
        Command::Rekey => {
            let count = latchkey_server::cli::rekey(cli.config).await?;
            println!("{count} TOTP secret(s) re-encrypted with the current key.");
            Ok(())
        }
        Command::CreateSuperuser { email, password_stdin } => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                line.trim_end_matches(['\r', '\n']).to_owned()
            } else {
                rpassword::prompt_password("Password: ")?
            };
            let id = latchkey_server::cli::create_superuser(cli.config, &email, &password).await?;
            println!("Superuser created (id {id}).");
            Ok(())
        }
    }
}
