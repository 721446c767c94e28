; Inno Setup script for StutterScope on Windows (Inno Setup 6: https://jrsoftware.org/isinfo.php).
; Build the folder app first (installer/README.md, "Windows"), then from the repository root:
;   iscc /DAppVersion=0.1.0 installer\windows\stutterscope.iss
; AppVersion must be the version in pyproject.toml (installer\README.md shows a PowerShell line that reads it).
; The installer goes to dist\StutterScope-<version>-windows-x64-setup.exe.

#ifndef AppVersion
  #error Pass the version from pyproject.toml: iscc /DAppVersion=x.y.z installer\windows\stutterscope.iss
#endif
#define AppName "StutterScope"
#define AppExe "stutterscope.exe"
#define SourceDir "..\..\dist\stutterscope"

[Setup]
; A fixed id, so that a newer version upgrades the installed one in place.
AppId={{6E0C9A55-3F9B-4F57-9C8D-5A1C2B7E4D10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=StutterScope
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user by default (no administrator rights needed); the user may choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
UninstallDisplayIcon={app}\{#AppExe}
#ifexist "..\stutterscope.ico"
SetupIconFile=..\stutterscope.ico
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole PyInstaller folder: the executable and _internal\ (Python, torch CPU, Qt, the default model).
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; Patient records, settings and logs live in the user's profile (platformdirs) and are kept on uninstall.
