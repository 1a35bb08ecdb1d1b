; Callpop NSIS hooks (included by electron-builder, see electron-builder.yml `nsis.include`).
;
; Per-machine installs (/allusers, or "Anyone who uses this computer") run elevated, so they add an
; inbound Windows Firewall rule for the webhook listener: TCP, the listener port (8765, or /PORT=N
; on the installer's command line), only for Callpop.exe, on domain and private networks. The
; uninstaller removes it. Per-user installs are not elevated and cannot add rules: IT deploys the
; rule by GPO instead (docs/deploy.md), and Windows asks the user on first listen otherwise.

!include "FileFunc.nsh"

!define CALLPOP_FW_RULE "Callpop webhook listener"
!define CALLPOP_DEFAULT_PORT "8765"

!macro customInstall
  ${if} $installMode == "all"
    ; /PORT=N overrides the port; anything that is not a number 1..65535 falls back to the default.
    ${GetParameters} $R0
    ClearErrors
    ${GetOptions} $R0 "/PORT=" $R1
    ${if} ${Errors}
      StrCpy $R1 "${CALLPOP_DEFAULT_PORT}"
    ${endIf}
    IntOp $R2 $R1 + 0
    ${if} "$R2" != "$R1"
    ${orIf} $R2 < 1
    ${orIf} $R2 > 65535
      StrCpy $R1 "${CALLPOP_DEFAULT_PORT}"
    ${endIf}
    ; Delete first so reinstalls and upgrades never leave duplicate rules behind.
    nsExec::Exec '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${CALLPOP_FW_RULE}"'
    Pop $R3
    nsExec::ExecToLog '"$SYSDIR\netsh.exe" advfirewall firewall add rule name="${CALLPOP_FW_RULE}" dir=in action=allow protocol=TCP localport=$R1 program="$INSTDIR\${APP_EXECUTABLE_FILENAME}" profile=domain,private enable=yes description="3CX WebAPI webhooks to Callpop"'
    Pop $R3
    ${if} $R3 != 0
      DetailPrint "Callpop: could not add the firewall rule (netsh exit code $R3)."
    ${endIf}
  ${endIf}
!macroend

!macro customUnInstall
  ; An upgrade runs the old uninstaller with --updated: keep the rule, the new install re-adds it.
  ${ifNot} ${isUpdated}
    ${if} $installMode == "all"
      nsExec::Exec '"$SYSDIR\netsh.exe" advfirewall firewall delete rule name="${CALLPOP_FW_RULE}"'
      Pop $R3
    ${endIf}
  ${endIf}
!macroend
