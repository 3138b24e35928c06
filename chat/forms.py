from django import forms

from chat.models import Conversation


class RenameConversationForm(forms.ModelForm):
    class Meta:
        model = Conversation
        fields = ["title"]
        widgets = {"title": forms.TextInput(attrs={"autofocus": True, "maxlength": 200})}
